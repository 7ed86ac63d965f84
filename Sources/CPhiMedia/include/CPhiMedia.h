#ifndef CPHIMEDIA_H
#define CPHIMEDIA_H
/* C shims over the system image codecs (filled in by the image decoding work). */
int phi_media_codecs_available(void);
#endif
