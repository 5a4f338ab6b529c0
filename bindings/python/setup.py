# The cffi extension (veritee_build.py) is the one thing pyproject.toml cannot declare.
from setuptools import setup

setup(cffi_modules=["veritee_build.py:ffibuilder"])
