// fuzzer_driver.h — starting libFuzzer from a Swift executable's entry point.
//
// SwiftPM links a debug executable with `main` renamed to `<Module>_main` (so tests can link it), which
// hides libFuzzer's own main. Each fuzz target therefore exports `<Module>_main` itself and calls
// gpt2d_fuzz_run, which hands argc/argv and the target's test function to libFuzzer's driver.
#pragma once
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's one-input callback: returns 0 (non-zero values are reserved by libFuzzer).
typedef int (*gpt2d_fuzz_callback)(const uint8_t *data, size_t size);

/// Runs libFuzzer with the process's arguments (corpus directories, -runs=N, ...); returns its exit code.
int gpt2d_fuzz_run(int argc, char **argv, gpt2d_fuzz_callback callback);
