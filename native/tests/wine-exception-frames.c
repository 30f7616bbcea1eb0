/*
 * Test support for running the managed suite under Wine 8 on x86-64; never shipped, never loaded on Windows.
 *
 * Wine 8's x86-64 exception dispatcher registers a frame in the thread's TEB exception list
 * (NT_TIB.ExceptionList) around every language handler it calls, and unregisters it when the handler
 * returns. .NET 10 resumes a managed catch from inside its handler without returning, and not through
 * RtlRestoreContext or RtlUnwindEx, the two places where Wine drops the frames left below the resumed
 * stack pointer. So after such a catch the list starts with a frame in stack memory that is no longer
 * in use. Once that memory is reused, the thread's next exception makes Wine call whatever lies
 * there as a handler: an access violation, which is dispatched the same way, until the stack
 * overflows, and the thread never comes back. Windows does not use this list on x86-64.
 *
 * The fix takes the frames the dispatcher added off the list while the dispatch that added them is
 * still running, when their memory is still theirs: a first vectored handler notes, per thread, the
 * list's head and the stack pointer of each exception Wine dispatches, and the managed suite's
 * first-chance exception handler, which .NET runs from inside its own language handler, calls
 * xnnkleidi_wine_forget_dispatcher_frames() to put that head back.
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#define END_OF_LIST ((EXCEPTION_REGISTRATION_RECORD *)~(ULONG_PTR)0)
/* A handful: the dispatcher adds one frame per handler it is inside of, and nested dispatches are rare. */
#define MAX_FRAMES_ADDED 16

/* Per thread: the list's head when Wine began to dispatch the thread's last exception, and that
   exception's stack pointer. TLS slots rather than __thread variables: the vectored handler runs during
   any exception, with any lock held, and MinGW's __thread may allocate on first use. */
static DWORD head_slot = TLS_OUT_OF_INDEXES;
static DWORD stack_pointer_slot = TLS_OUT_OF_INDEXES;

/* The thread's TIB, read through gs:0x30 (its own address) rather than NtCurrentTeb(), whose inline
   segment read gcc 12 misreports as an out-of-bounds access. */
static NT_TIB *current_tib(void)
{
  NT_TIB *tib;
  __asm__("movq %%gs:0x30, %0" : "=r"(tib));
  return tib;
}

static int is_frame_in(const EXCEPTION_REGISTRATION_RECORD *frame, ULONG_PTR low, ULONG_PTR high)
{
  ULONG_PTR address = (ULONG_PTR)frame;
  return (address & (sizeof(void *) - 1)) == 0 && address >= low && address + sizeof(*frame) <= high;
}

static LONG CALLBACK note_dispatch(EXCEPTION_POINTERS *pointers)
{
  TlsSetValue(head_slot, current_tib()->ExceptionList);
  TlsSetValue(stack_pointer_slot, (void *)(ULONG_PTR)pointers->ContextRecord->Rsp);
  return EXCEPTION_CONTINUE_SEARCH;
}

/* Returns 1 once the vectored handler is installed (again calls do nothing), 0 if it could not be. */
__declspec(dllexport) int xnnkleidi_wine_install(void)
{
  static void *handler;
  if (handler != NULL) return 1;
  head_slot = TlsAlloc();
  stack_pointer_slot = TlsAlloc();
  if (head_slot == TLS_OUT_OF_INDEXES || stack_pointer_slot == TLS_OUT_OF_INDEXES) return 0;
  handler = AddVectoredExceptionHandler(1, note_dispatch);
  return handler != NULL;
}

/*
 * Called on the thread of a first-chance exception. If it runs inside the dispatch the vectored handler
 * noted last (deeper than that exception's stack pointer) and the head noted then is still on the list,
 * reached through live frames only, it becomes the head again: the frames in front of it are the
 * dispatcher's own, which its return would remove and a resumed catch leaves behind. The note is used
 * once. Returns the number of frames taken off.
 */
__declspec(dllexport) int xnnkleidi_wine_forget_dispatcher_frames(void)
{
  if (head_slot == TLS_OUT_OF_INDEXES) return 0;
  ULONG_PTR raised_at = (ULONG_PTR)TlsGetValue(stack_pointer_slot);
  EXCEPTION_REGISTRATION_RECORD *noted_head = (EXCEPTION_REGISTRATION_RECORD *)TlsGetValue(head_slot);
  ULONG_PTR here = (ULONG_PTR)__builtin_frame_address(0);
  if (raised_at == 0 || here >= raised_at) return 0;
  TlsSetValue(stack_pointer_slot, NULL);

  NT_TIB *tib = current_tib();
  ULONG_PTR stack_high = (ULONG_PTR)tib->StackBase;
  EXCEPTION_REGISTRATION_RECORD *frame = tib->ExceptionList;
  int added = 0;
  while (frame != noted_head) {
    if (added == MAX_FRAMES_ADDED || frame == END_OF_LIST || frame == NULL || !is_frame_in(frame, here, stack_high))
      return 0;
    EXCEPTION_REGISTRATION_RECORD *next = frame->Next;
    if (next != END_OF_LIST && next <= frame) return 0;
    frame = next;
    added++;
  }
  tib->ExceptionList = noted_head;
  return added;
}
