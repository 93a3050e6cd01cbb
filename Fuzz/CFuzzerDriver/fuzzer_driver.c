// fuzzer_driver.c — see include/fuzzer_driver.h.
#include "fuzzer_driver.h"

// Provided by libclang_rt.fuzzer (linked by -sanitize=fuzzer).
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *, size_t));

int gpt2d_fuzz_run(int argc, char **argv, gpt2d_fuzz_callback callback) {
    return LLVMFuzzerRunDriver(&argc, &argv, callback);
}
