#include "CPhiMedia.h"

#include <stdio.h>
#include <string.h>

static void phi_set_message(char *message, size_t capacity, const char *text) {
    if (message == NULL || capacity == 0) return;
    snprintf(message, capacity, "%s", text);
}

#ifdef __linux__

#include <setjmp.h>
#include <stdlib.h>

#include <jerror.h>
#include <jpeglib.h>
#include <png.h>

/* ------------------------------------------------------------------------------------------------------------ JPEG */

/* A progressive file can hold any number of scans and each one costs a full pass over the coefficients; real
 * encoders write about 10. libjpeg-turbo's own tools cap this the same way (djpeg -maxscans). */
#define PHI_JPEG_MAX_SCANS 500

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    int status;
    char text[JMSG_LENGTH_MAX];
} phi_jpeg_error;

static void phi_jpeg_error_exit(j_common_ptr cinfo) {
    phi_jpeg_error *err = (phi_jpeg_error *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, err->text);
    err->status = PHI_IMG_CORRUPT;
    longjmp(err->jump, 1);
}

/* Warnings are silent (Pillow ignores them too), except running out of data: libjpeg would pad the rest of the
 * image with grey, where Pillow raises "image file is truncated". */
static void phi_jpeg_emit_message(j_common_ptr cinfo, int level) {
    phi_jpeg_error *err = (phi_jpeg_error *)cinfo->err;
    if (level < 0) {
        err->pub.num_warnings++;
        if (err->pub.msg_code == JWRN_JPEG_EOF) {
            snprintf(err->text, sizeof err->text, "the JPEG data ends before the image does");
            err->status = PHI_IMG_TRUNCATED;
            longjmp(err->jump, 1);
        }
    }
}

static void phi_jpeg_output_message(j_common_ptr cinfo) { (void)cinfo; }

static void phi_jpeg_progress(j_common_ptr cinfo) {
    if (!cinfo->is_decompressor) return;
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (d->inputctl != NULL && d->input_scan_number > PHI_JPEG_MAX_SCANS) {
        phi_jpeg_error *err = (phi_jpeg_error *)cinfo->err;
        snprintf(err->text, sizeof err->text, "progressive JPEG with more than %d scans", PHI_JPEG_MAX_SCANS);
        err->status = PHI_IMG_CORRUPT;
        longjmp(err->jump, 1);
    }
}

/* Shared by both phases: set up the decompressor over the memory buffer and read the header. The caller owns the
 * setjmp. */
static void phi_jpeg_open(struct jpeg_decompress_struct *cinfo, phi_jpeg_error *err,
                          struct jpeg_progress_mgr *progress, const uint8_t *data, size_t size) {
    cinfo->err = jpeg_std_error(&err->pub);
    err->pub.error_exit = phi_jpeg_error_exit;
    err->pub.emit_message = phi_jpeg_emit_message;
    err->pub.output_message = phi_jpeg_output_message;
    jpeg_create_decompress(cinfo);
    progress->progress_monitor = phi_jpeg_progress;
    cinfo->progress = progress;
    jpeg_mem_src(cinfo, data, (unsigned long)size);
    if (jpeg_read_header(cinfo, TRUE) != JPEG_HEADER_OK) {
        snprintf(err->text, sizeof err->text, "the JPEG holds tables but no image");
        err->status = PHI_IMG_CORRUPT;
        longjmp(err->jump, 1);
    }
}

int phi_jpeg_read_size(const uint8_t *data, size_t size, uint32_t *width, uint32_t *height,
                       char *message, size_t msg_capacity) {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_progress_mgr progress;
    phi_jpeg_error err;
    memset(&cinfo, 0, sizeof cinfo);
    memset(&err, 0, sizeof err);
    if (data == NULL || size == 0 || size > (size_t)0x7fffffff) {
        phi_set_message(message, msg_capacity, "empty or oversized JPEG buffer");
        return PHI_IMG_CORRUPT;
    }
    if (setjmp(err.jump)) {
        phi_set_message(message, msg_capacity, err.text);
        jpeg_destroy_decompress(&cinfo);
        return err.status ? err.status : PHI_IMG_CORRUPT;
    }
    phi_jpeg_open(&cinfo, &err, &progress, data, size);
    *width = cinfo.image_width;
    *height = cinfo.image_height;
    int components = cinfo.num_components;
    jpeg_destroy_decompress(&cinfo);
    if (components != 1 && components != 3 && components != 4) {
        snprintf(err.text, sizeof err.text, "JPEG with %d color components (only 1, 3 and 4 are supported)",
                 components);
        phi_set_message(message, msg_capacity, err.text);
        return PHI_IMG_UNSUPPORTED;
    }
    return PHI_IMG_OK;
}

/* Pillow's cmyk2rgb (libImaging/Convert.c): r = clip(nk - nk*c/255) with its rounding MULDIV255. */
static inline uint8_t phi_muldiv255_sub(int nk, int c) {
    int tmp = c * nk + 128;
    int v = nk - (((tmp >> 8) + tmp) >> 8);
    return (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
}

int phi_jpeg_decode_rgb(const uint8_t *data, size_t size, uint32_t width, uint32_t height,
                        uint8_t *out, size_t out_size, char *message, size_t msg_capacity) {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_progress_mgr progress;
    phi_jpeg_error err;
    uint8_t *volatile row = NULL; /* volatile: read after longjmp */
    memset(&cinfo, 0, sizeof cinfo);
    memset(&err, 0, sizeof err);
    if (data == NULL || size == 0 || size > (size_t)0x7fffffff || out == NULL) {
        phi_set_message(message, msg_capacity, "empty or oversized JPEG buffer");
        return PHI_IMG_CORRUPT;
    }
    if (setjmp(err.jump)) {
        phi_set_message(message, msg_capacity, err.text);
        jpeg_destroy_decompress(&cinfo);
        free(row);
        return err.status ? err.status : PHI_IMG_CORRUPT;
    }
    phi_jpeg_open(&cinfo, &err, &progress, data, size);
    if (cinfo.image_width != width || cinfo.image_height != height ||
        (uint64_t)width * (uint64_t)height * 3u != (uint64_t)out_size) {
        snprintf(err.text, sizeof err.text, "JPEG size does not match the buffer");
        err.status = PHI_IMG_MISMATCH;
        longjmp(err.jump, 1);
    }
    int cmyk = 0;
    switch (cinfo.num_components) {
    case 1: cinfo.out_color_space = JCS_GRAYSCALE; break;
    case 3: cinfo.out_color_space = JCS_RGB; break;
    case 4: cinfo.out_color_space = JCS_CMYK; cmyk = 1; break; /* libjpeg turns YCCK into CMYK */
    default:
        snprintf(err.text, sizeof err.text, "JPEG with %d color components", cinfo.num_components);
        err.status = PHI_IMG_UNSUPPORTED;
        longjmp(err.jump, 1);
    }
    /* Pillow's defaults: integer slow IDCT, fancy upsampling, no scaling. */
    cinfo.dct_method = JDCT_ISLOW;
    cinfo.do_fancy_upsampling = TRUE;
    jpeg_start_decompress(&cinfo);
    int comps = cinfo.output_components;
    if (cinfo.output_width != width || cinfo.output_height != height || (comps != 1 && comps != 3 && comps != 4)) {
        snprintf(err.text, sizeof err.text, "unexpected JPEG output layout");
        err.status = PHI_IMG_UNSUPPORTED;
        longjmp(err.jump, 1);
    }
    size_t row_bytes = (size_t)width * (size_t)comps;
    if (comps != 3) {
        row = (uint8_t *)malloc(row_bytes ? row_bytes : 1);
        if (row == NULL) {
            snprintf(err.text, sizeof err.text, "out of memory");
            err.status = PHI_IMG_NOMEM;
            longjmp(err.jump, 1);
        }
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        size_t y = cinfo.output_scanline;
        uint8_t *dst = out + y * (size_t)width * 3u;
        JSAMPROW target = comps == 3 ? (JSAMPROW)dst : (JSAMPROW)row;
        if (jpeg_read_scanlines(&cinfo, &target, 1) != 1) {
            snprintf(err.text, sizeof err.text, "the JPEG data ends before the image does");
            err.status = PHI_IMG_TRUNCATED;
            longjmp(err.jump, 1);
        }
        if (comps == 1) {
            for (size_t x = 0; x < width; x++) dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = row[x];
        } else if (cmyk) {
            /* Pillow reads every 4-component JPEG as "CMYK;I" (Adobe's inverted convention), then cmyk2rgb. */
            for (size_t x = 0; x < width; x++) {
                int c = 255 - row[4 * x], m = 255 - row[4 * x + 1], yy = 255 - row[4 * x + 2];
                int nk = row[4 * x + 3]; /* 255 - inverted k */
                dst[3 * x] = phi_muldiv255_sub(nk, c);
                dst[3 * x + 1] = phi_muldiv255_sub(nk, m);
                dst[3 * x + 2] = phi_muldiv255_sub(nk, yy);
            }
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(row);
    return PHI_IMG_OK;
}

/* ------------------------------------------------------------------------------------------------------------- PNG */

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t offset;
    int status;
    char text[256];
} phi_png_io;

static void phi_png_error(png_structp png, png_const_charp msg) {
    phi_png_io *io = (phi_png_io *)png_get_error_ptr(png);
    if (io->status == 0) {
        io->status = PHI_IMG_CORRUPT;
        snprintf(io->text, sizeof io->text, "%s", msg ? msg : "PNG error");
    }
    png_longjmp(png, 1);
}

static void phi_png_warning(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

static void phi_png_read(png_structp png, png_bytep dst, size_t length) {
    phi_png_io *io = (phi_png_io *)png_get_io_ptr(png);
    if (length > io->size - io->offset) {
        io->status = PHI_IMG_TRUNCATED;
        snprintf(io->text, sizeof io->text, "the PNG data ends before the image does");
        png_error(png, "truncated");
    }
    memcpy(dst, io->data + io->offset, length);
    io->offset += length;
}

int phi_png_read_size(const uint8_t *data, size_t size, uint32_t *width, uint32_t *height,
                      char *message, size_t msg_capacity) {
    phi_png_io io;
    memset(&io, 0, sizeof io);
    io.data = data;
    io.size = size;
    if (data == NULL || size < 8 || png_sig_cmp((png_const_bytep)data, 0, 8) != 0) {
        phi_set_message(message, msg_capacity, "not a PNG signature");
        return PHI_IMG_CORRUPT;
    }
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &io, phi_png_error, phi_png_warning);
    if (png == NULL) {
        phi_set_message(message, msg_capacity, "out of memory");
        return PHI_IMG_NOMEM;
    }
    png_infop info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_read_struct(&png, NULL, NULL);
        phi_set_message(message, msg_capacity, "out of memory");
        return PHI_IMG_NOMEM;
    }
    if (setjmp(png_jmpbuf(png))) {
        phi_set_message(message, msg_capacity, io.text);
        png_destroy_read_struct(&png, &info, NULL);
        return io.status ? io.status : PHI_IMG_CORRUPT;
    }
    png_set_read_fn(png, &io, phi_png_read);
    png_read_info(png, info);
    *width = png_get_image_width(png, info);
    *height = png_get_image_height(png, info);
    png_destroy_read_struct(&png, &info, NULL);
    return PHI_IMG_OK;
}

/* Pillow's PNG modes and their convert("RGB"):
 *   palette (any depth, with or without tRNS) -> palette lookup, transparency dropped
 *   gray 1/2/4/8 -> bits replicated to 8 (0/255, x85, x17), gray copied to R, G, B
 *   gray 16 -> mode "I;16", whose RGB conversion CLAMPS the 16-bit value to 255 (it does not scale)
 *   gray+alpha, RGB, RGBA 16 -> the high byte ("LA;16B", "RGB;16B", "RGBA;16B")
 *   alpha is dropped, never composited; gamma/ICC ignored. */
int phi_png_decode_rgb(const uint8_t *data, size_t size, uint32_t width, uint32_t height,
                       uint8_t *out, size_t out_size, char *message, size_t msg_capacity) {
    phi_png_io io;
    uint8_t *volatile image = NULL;
    png_bytep *volatile rows = NULL;
    memset(&io, 0, sizeof io);
    io.data = data;
    io.size = size;
    if (data == NULL || size < 8 || png_sig_cmp((png_const_bytep)data, 0, 8) != 0 || out == NULL) {
        phi_set_message(message, msg_capacity, "not a PNG signature");
        return PHI_IMG_CORRUPT;
    }
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &io, phi_png_error, phi_png_warning);
    if (png == NULL) {
        phi_set_message(message, msg_capacity, "out of memory");
        return PHI_IMG_NOMEM;
    }
    png_infop info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_read_struct(&png, NULL, NULL);
        phi_set_message(message, msg_capacity, "out of memory");
        return PHI_IMG_NOMEM;
    }
    if (setjmp(png_jmpbuf(png))) {
        phi_set_message(message, msg_capacity, io.text);
        png_destroy_read_struct(&png, &info, NULL);
        free(image);
        free(rows);
        return io.status ? io.status : PHI_IMG_CORRUPT;
    }
    png_set_read_fn(png, &io, phi_png_read);
    png_read_info(png, info);
    if (png_get_image_width(png, info) != width || png_get_image_height(png, info) != height ||
        (uint64_t)width * (uint64_t)height * 3u != (uint64_t)out_size) {
        io.status = PHI_IMG_MISMATCH;
        snprintf(io.text, sizeof io.text, "PNG size does not match the buffer");
        png_longjmp(png, 1);
    }
    int color_type = png_get_color_type(png, info);
    int bit_depth = png_get_bit_depth(png, info);
    int gray16 = (color_type == PNG_COLOR_TYPE_GRAY && bit_depth == 16);
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_set_palette_to_rgb(png); /* may add alpha from tRNS; dropped below */
    } else if ((color_type & PNG_COLOR_MASK_COLOR) == 0 && bit_depth < 8) {
        png_set_expand_gray_1_2_4_to_8(png);
    }
    if (bit_depth == 16 && !gray16) png_set_strip_16(png); /* keeps the high byte */
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int channels = png_get_channels(png, info);
    size_t bytes_per_sample = gray16 ? 2 : 1;
    size_t row_bytes = png_get_rowbytes(png, info);
    if (png_get_bit_depth(png, info) != (gray16 ? 16 : 8) || channels < 1 || channels > 4 ||
        row_bytes != (size_t)width * (size_t)channels * bytes_per_sample) {
        io.status = PHI_IMG_UNSUPPORTED;
        snprintf(io.text, sizeof io.text, "unexpected PNG row layout (color type %d, depth %d)", color_type,
                 bit_depth);
        png_longjmp(png, 1);
    }
    int interlaced = png_get_interlace_type(png, info) != PNG_INTERLACE_NONE;
    int direct = (channels == 3 && !gray16);
    size_t rows_in_buffer = (direct || !interlaced) ? 1 : (size_t)height;
    if (!direct) {
        /* row_bytes * height cannot overflow: it is at most 4 * width * height, and width * height * 3 fit. */
        image = (uint8_t *)malloc(row_bytes * rows_in_buffer + 1);
        if (image == NULL) {
            io.status = PHI_IMG_NOMEM;
            snprintf(io.text, sizeof io.text, "out of memory");
            png_longjmp(png, 1);
        }
    }
    if (interlaced) {
        rows = (png_bytep *)malloc(sizeof(png_bytep) * (size_t)height + 1);
        if (rows == NULL) {
            io.status = PHI_IMG_NOMEM;
            snprintf(io.text, sizeof io.text, "out of memory");
            png_longjmp(png, 1);
        }
        for (size_t y = 0; y < height; y++) {
            rows[y] = direct ? out + y * (size_t)width * 3u : image + y * row_bytes;
        }
        png_read_image(png, rows);
    }
    for (size_t y = 0; y < height; y++) {
        uint8_t *dst = out + y * (size_t)width * 3u;
        const uint8_t *src;
        if (interlaced) {
            src = rows[y];
        } else {
            png_bytep target = direct ? dst : image;
            png_read_row(png, target, NULL);
            src = target;
        }
        if (direct) continue;
        if (gray16) {
            for (size_t x = 0; x < width; x++) {
                unsigned v = ((unsigned)src[2 * x] << 8) | src[2 * x + 1];
                uint8_t g = v > 255 ? 255 : (uint8_t)v;
                dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = g;
            }
        } else if (channels == 1 || channels == 2) {
            for (size_t x = 0; x < width; x++) {
                uint8_t g = src[(size_t)channels * x];
                dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = g;
            }
        } else { /* 4: RGBA */
            for (size_t x = 0; x < width; x++) {
                dst[3 * x] = src[4 * x];
                dst[3 * x + 1] = src[4 * x + 1];
                dst[3 * x + 2] = src[4 * x + 2];
            }
        }
    }
    /* Reading IEND checks the CRC of the remaining chunks, which Pillow skips: do not require it. */
    png_destroy_read_struct(&png, &info, NULL);
    free(image);
    free(rows);
    return PHI_IMG_OK;
}

#else /* !__linux__: Apple platforms decode with ImageIO from Swift. */

int phi_jpeg_read_size(const uint8_t *data, size_t size, uint32_t *width, uint32_t *height,
                       char *message, size_t msg_capacity) {
    (void)data; (void)size; (void)width; (void)height;
    phi_set_message(message, msg_capacity, "libjpeg is not built on this platform");
    return PHI_IMG_UNAVAILABLE;
}
int phi_jpeg_decode_rgb(const uint8_t *data, size_t size, uint32_t width, uint32_t height,
                        uint8_t *out, size_t out_size, char *message, size_t msg_capacity) {
    (void)data; (void)size; (void)width; (void)height; (void)out; (void)out_size;
    phi_set_message(message, msg_capacity, "libjpeg is not built on this platform");
    return PHI_IMG_UNAVAILABLE;
}
int phi_png_read_size(const uint8_t *data, size_t size, uint32_t *width, uint32_t *height,
                      char *message, size_t msg_capacity) {
    (void)data; (void)size; (void)width; (void)height;
    phi_set_message(message, msg_capacity, "libpng is not built on this platform");
    return PHI_IMG_UNAVAILABLE;
}
int phi_png_decode_rgb(const uint8_t *data, size_t size, uint32_t width, uint32_t height,
                       uint8_t *out, size_t out_size, char *message, size_t msg_capacity) {
    (void)data; (void)size; (void)width; (void)height; (void)out; (void)out_size;
    phi_set_message(message, msg_capacity, "libpng is not built on this platform");
    return PHI_IMG_UNAVAILABLE;
}

#endif
