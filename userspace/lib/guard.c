// SPDX-License-Identifier: GPL-2.0
/*
 * Catching faults on the zero-copy view.
 *
 * Loads from the session's mapping raise SIGBUS when they hit a hole between
 * memslots (callers check memslots first, but the guest's layout can change
 * under us) and once the target is gone. A fault there must become an error
 * for that one call, not kill the process. So each guarded copy arms a
 * thread-local jump buffer (sigsetjmp without saving the signal mask: cheap,
 * no system call) and the SIGBUS handler jumps back only for a fault inside
 * the armed region of the faulting thread; any other SIGBUS goes to whatever
 * handler was installed before ours, or kills the process as it would have.
 *
 * SA_NODEFER keeps SIGBUS unblocked while the handler runs: we leave the
 * handler with siglongjmp() and, because the mask is not saved, nothing would
 * unblock it afterwards.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include "internal.h"

struct view_guard {
	sigjmp_buf env;
	uintptr_t lo;
	uintptr_t hi;
	volatile sig_atomic_t armed;
};

/*
 * initial-exec: the handler must not go through __tls_get_addr, which may
 * allocate, even if this code ends up in a shared object.
 */
static _Thread_local struct view_guard guard __attribute__((tls_model("initial-exec")));

static struct sigaction previous_action;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static int install_err;

static void pass_on(int sig, siginfo_t *info, void *ucontext)
{
	struct sigaction dfl;

	if (previous_action.sa_flags & SA_SIGINFO) {
		previous_action.sa_sigaction(sig, info, ucontext);
		return;
	}
	if (previous_action.sa_handler != SIG_DFL && previous_action.sa_handler != SIG_IGN) {
		previous_action.sa_handler(sig);
		return;
	}
	/*
	 * Default action (an ignored SIGBUS from a fault is fatal as well: the
	 * kernel forces it). Restore it; a fault then recurs when we return
	 * and kills the process with the right signal; a SIGBUS sent by
	 * kill() (si_code <= 0) does not recur, so send it again.
	 */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(sig, &dfl, NULL);
	if (!info || info->si_code <= 0)
		raise(sig);
}

static void on_sigbus(int sig, siginfo_t *info, void *ucontext)
{
	uintptr_t addr = info ? (uintptr_t)info->si_addr : 0;

	/* Only a real fault (si_code > 0) has an address worth looking at. */
	if (guard.armed && info && info->si_code > 0 && addr >= guard.lo && addr < guard.hi) {
		guard.armed = 0;
		siglongjmp(guard.env, 1);
	}
	pass_on(sig, info, ucontext);
}

static void install(void)
{
	struct sigaction sa;

	/*
	 * Learn the previous action before ours is live, so that a SIGBUS
	 * arriving in between in another thread is passed on correctly.
	 */
	if (sigaction(SIGBUS, NULL, &previous_action)) {
		install_err = -errno;
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL))
		install_err = -errno;
}

int imee_guarded_copy(void *dst, const void *src, size_t len, const void *region, size_t region_len)
{
	pthread_once(&install_once, install);
	if (install_err)
		return imee_fail(install_err, "cannot install the SIGBUS handler: %s",
				 strerror(-install_err));

	if (sigsetjmp(guard.env, 0)) {
		/* The handler disarmed the guard and jumped back: a fault in the view. */
		return -EFAULT;
	}
	guard.lo = (uintptr_t)region;
	guard.hi = (uintptr_t)region + region_len;
	atomic_signal_fence(memory_order_seq_cst);
	guard.armed = 1;
	/* Keep the compiler from moving the loads out of the armed window. */
	atomic_signal_fence(memory_order_seq_cst);
	memcpy(dst, src, len);
	atomic_signal_fence(memory_order_seq_cst);
	guard.armed = 0;
	atomic_signal_fence(memory_order_seq_cst);
	return 0;
}
