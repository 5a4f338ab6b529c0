{
  "targets": [
    {
      "target_name": "veritee",
      "sources": ["src/addon.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(pkg-config --cflags-only-I veritee | sed -e 's/-I//g')"
      ],
      "libraries": [
        "<!@(pkg-config --libs veritee)",
        "-Wl,-rpath,<!(pkg-config --variable=libdir veritee)"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Werror"]
    }
  ]
}
