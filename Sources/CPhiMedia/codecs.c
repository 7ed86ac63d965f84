#include "CPhiMedia.h"
int phi_media_codecs_available(void) { return 0; }
