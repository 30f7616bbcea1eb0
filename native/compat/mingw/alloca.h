/* MinGW-w64 declares alloca in <malloc.h> and has no <alloca.h>, which pthreadpool
 * includes when alloca is already a macro (as <windows.h> makes it). */
#ifndef XNNKLEIDI_COMPAT_ALLOCA_H_
#define XNNKLEIDI_COMPAT_ALLOCA_H_
#include <malloc.h>
#endif
