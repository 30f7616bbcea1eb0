/*
 * Two glibc-only functions that prebuilt objects linked into the musl libraries call.
 * musl does not define them; these forward to the standard functions musl has.
 * The version script keeps both local to the library.
 *
 * - __fprintf_chk: Debian's KleidiAI archive is compiled with _FORTIFY_SOURCE, whose
 *   fprintf calls become __fprintf_chk (used on its error paths).
 * - __getauxval: gcc's libgcc for aarch64-linux-gnu asks glibc for the CPU's hardware
 *   capabilities this way when it chooses between LSE and load-exclusive atomics.
 */
#include <stdarg.h>
#include <stdio.h>
#include <sys/auxv.h>

int __fprintf_chk(FILE* stream, int flag, const char* format, ...) {
  (void) flag;
  va_list arguments;
  va_start(arguments, format);
  const int result = vfprintf(stream, format, arguments);
  va_end(arguments);
  return result;
}

#if defined(__aarch64__)
unsigned long __getauxval(unsigned long type) {
  return getauxval(type);
}
#endif
