# Convenience targets; the scripts are the source of truth.
.PHONY: demo check build clean format
demo:
	scripts/demo.sh
check:
	scripts/check.sh
build:
	cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DVT_TESTS=OFF && cmake --build build/release -j2
format:
	clang-format -i $$(git ls-files '*.c' '*.h')
clean:
	rm -rf build build-*
