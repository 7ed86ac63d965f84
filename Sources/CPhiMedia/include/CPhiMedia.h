#ifndef CPHIMEDIA_H
#define CPHIMEDIA_H
/* C shims over the system image codecs (libjpeg-turbo, libpng). Both libraries report errors with longjmp, so
 * every call into them happens here, behind setjmp; Swift only sees a status code and a message.
 *
 * Two-phase use: *_read_size parses the header only (cheap, allocates nothing proportional to the image), the caller
 * checks its pixel limit and allocates width*height*3 bytes, then *_decode_rgb parses again and fills that buffer
 * with RGB8 exactly as Pillow's Image.open(f).convert("RGB") would.
 *
 * Implemented on Linux only (the Swift side uses ImageIO on Apple platforms); elsewhere every call returns
 * PHI_IMG_UNAVAILABLE. */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    PHI_IMG_OK = 0,
    PHI_IMG_CORRUPT = 1,      /* the codec rejected the data; message says why */
    PHI_IMG_TRUNCATED = 2,    /* the data ends before the image does */
    PHI_IMG_UNSUPPORTED = 3,  /* valid file, but a variant we do not decode (e.g. a 2-component JPEG) */
    PHI_IMG_NOMEM = 4,        /* an allocation failed */
    PHI_IMG_MISMATCH = 5,     /* decode was called with a size or buffer that does not match the header */
    PHI_IMG_UNAVAILABLE = 6   /* built without the codec (non-Linux) */
};

/* Messages are NUL-terminated and truncated to msg_capacity. */
int phi_jpeg_read_size(const uint8_t *data, size_t size, uint32_t *width, uint32_t *height,
                       char *message, size_t msg_capacity);
int phi_jpeg_decode_rgb(const uint8_t *data, size_t size, uint32_t width, uint32_t height,
                        uint8_t *out, size_t out_size, char *message, size_t msg_capacity);

int phi_png_read_size(const uint8_t *data, size_t size, uint32_t *width, uint32_t *height,
                      char *message, size_t msg_capacity);
int phi_png_decode_rgb(const uint8_t *data, size_t size, uint32_t width, uint32_t height,
                       uint8_t *out, size_t out_size, char *message, size_t msg_capacity);

#ifdef __cplusplus
}
#endif
#endif
