// libFuzzer target for the C image shims (Sources/CPhiMedia/codecs.c) alone, built by clang with ASan and UBSan:
// the first byte picks JPEG or PNG when the data has no recognisable magic, then size probing and a full decode
// into a buffer of exactly the reported size (bounded, as ImageDecoder bounds it).
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "CPhiMedia.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char msg[256];
    uint32_t w = 0, h = 0;
    int png = size >= 8 && memcmp(data, "\x89PNG", 4) == 0;
    int rc = png ? phi_png_read_size(data, size, &w, &h, msg, sizeof msg)
                 : phi_jpeg_read_size(data, size, &w, &h, msg, sizeof msg);
    if (rc != PHI_IMG_OK || w == 0 || h == 0 || (uint64_t)w * h > (1u << 22)) return 0;
    size_t n = (size_t)w * h * 3;
    uint8_t *out = malloc(n);
    if (!out) return 0;
    if (png) phi_png_decode_rgb(data, size, w, h, out, n, msg, sizeof msg);
    else phi_jpeg_decode_rgb(data, size, w, h, out, n, msg, sizeof msg);
    free(out);
    return 0;
}
