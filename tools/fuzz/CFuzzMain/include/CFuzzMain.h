#ifndef CFUZZMAIN_H
#define CFUZZMAIN_H
#include <stddef.h>
#include <stdint.h>
/* SwiftPM links each executable with main aliased to <module>_main, so libFuzzer's own main() is not used: each
   harness defines that function and starts libFuzzer's driver through this call. */
int phikit_fuzz_main(int argc, char **argv, int (*test_one_input)(const uint8_t *data, size_t size));
#endif
