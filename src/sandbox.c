/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sandbox.c: owns the seccomp filter. If the helper were ever subverted by
 * a malicious client, the filter limits it to what serving requests needs:
 * socket I/O on descriptors it already has, SG_IO on passed device fds,
 * memory and thread management, removing its socket and pid file at exit.
 * It cannot open files, create sockets, exec, fork or change credentials.
 * The program is written by hand (no libseccomp): a flat list of allowed
 * system call numbers, plus argument checks for ioctl and clone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "log.h"
#include "sandbox.h"

/*
 * The allow-lists. Names, not numbers: each architecture's numbers come
 * from musl's <sys/syscall.h> for it, and a name an architecture lacks is
 * left out by its #ifdef. Where musl on one architecture makes another call
 * for the same thing, both are listed, each with why: 32-bit arm has
 * 64-bit-time variants (clock_gettime64, ppoll_time64, futex_time64,
 * clock_nanosleep_time64; musl falls back to the old call on ENOSYS) and
 * large-file ones (fcntl64, _llseek, mmap2, fstat64); some architectures
 * have no poll, fstat or unlink. tests/integ/t_syscalls.sh checks, on every
 * architecture, that what the binary really calls is on its list.
 */
#define CALL(name) { __NR_##name, #name }

/* The running helper: thread creation and exit, memory for request
 * buffers, the loop's socket calls, the workers' SG_IO path, the stop
 * (unlink, ftruncate), the multipath opener's reaping, and the logging
 * paths (write, syslog's send and reconnect). */
static const struct sandbox_call allowed[] = {
	CALL(read), CALL(write), CALL(writev), CALL(close),
	CALL(fcntl),
#ifdef __NR_fcntl64
	CALL(fcntl64),
#endif
	/* fstat: musl's is fstatat(fd, "", AT_EMPTY_PATH), which is
	 * newfstatat or fstatat64 (statx first where time_t outgrew the
	 * kernel's stat). */
#ifdef __NR_fstat
	CALL(fstat),
#endif
#ifdef __NR_fstat64
	CALL(fstat64),
#endif
#ifdef __NR_newfstatat
	CALL(newfstatat),
#endif
#ifdef __NR_fstatat64
	CALL(fstatat64),
#endif
	CALL(statx),
	/* lstat of the socket and pid file before removing them at the
	 * stop: musl makes it lstat where the architecture has one. */
#ifdef __NR_lstat
	CALL(lstat),
#endif
#ifdef __NR_lstat64
	CALL(lstat64),
#endif
#ifdef __NR_poll
	CALL(poll),
#endif
	CALL(ppoll),
#ifdef __NR_ppoll_time64
	CALL(ppoll_time64),
#endif
	CALL(accept4), CALL(recvfrom), CALL(recvmsg), CALL(sendto), CALL(sendmsg),
	CALL(getsockopt), CALL(connect),
	CALL(futex),
#ifdef __NR_futex_time64
	CALL(futex_time64),
#endif
#ifdef __NR_mmap
	CALL(mmap),
#endif
#ifdef __NR_mmap2
	CALL(mmap2),
#endif
	CALL(munmap), CALL(mprotect), CALL(madvise), CALL(mremap), CALL(brk),
	CALL(exit), CALL(exit_group), CALL(rt_sigprocmask), CALL(rt_sigreturn),
#if defined(__arm__) || defined(__s390x__)
	/* musl's return from a handler without SA_SIGINFO there */
	CALL(sigreturn),
#endif
	CALL(restart_syscall), CALL(gettid), CALL(getpid), CALL(sched_yield),
#ifdef __NR_clock_gettime
	CALL(clock_gettime), CALL(clock_nanosleep),
#endif
#ifdef __NR_clock_gettime64
	CALL(clock_gettime64), CALL(clock_nanosleep_time64),
	CALL(clock_gettime32), CALL(clock_nanosleep_time32),
#endif
	CALL(nanosleep),
	CALL(getrusage),    /* the pool counts preemptions (worker.c) */
	CALL(wait4),        /* the multipath opener, reaped at the stop */
#ifdef __NR_unlink
	CALL(unlink),
#endif
	CALL(unlinkat), CALL(ftruncate),
#ifdef __NR_ftruncate64
	CALL(ftruncate64),
#endif
	CALL(lseek),
#ifdef __NR__llseek
	CALL(_llseek),
#endif
};

/* The multipath path opener (mpath_opener.c): its socket, reading sysfs
 * attributes and one directory, opening device nodes, and what musl's
 * opendir and the log need. No ioctl, no threads, no fork. openat (and
 * open) are not here: they are allowed only with harmless flags. */
static const struct sandbox_call opener_allowed[] = {
	CALL(read), CALL(write), CALL(writev), CALL(close),
#ifdef __NR_fstat
	CALL(fstat),
#endif
#ifdef __NR_fstat64
	CALL(fstat64),
#endif
#ifdef __NR_newfstatat
	CALL(newfstatat),
#endif
#ifdef __NR_fstatat64
	CALL(fstatat64),
#endif
	CALL(statx),
	CALL(getdents64), CALL(lseek),
#ifdef __NR__llseek
	CALL(_llseek),
#endif
	CALL(recvmsg), CALL(sendmsg), CALL(fcntl),
#ifdef __NR_fcntl64
	CALL(fcntl64),
#endif
#ifdef __NR_readlink
	CALL(readlink),
#endif
	CALL(readlinkat),
#ifdef __NR_mmap
	CALL(mmap),
#endif
#ifdef __NR_mmap2
	CALL(mmap2),
#endif
	CALL(munmap), CALL(madvise), CALL(mremap), CALL(brk),
	CALL(exit), CALL(exit_group), CALL(rt_sigprocmask), CALL(rt_sigreturn),
	CALL(restart_syscall), CALL(getpid), CALL(gettid),
#ifdef __NR_clock_gettime
	CALL(clock_gettime),
#endif
#ifdef __NR_clock_gettime64
	CALL(clock_gettime64), CALL(clock_gettime32),
#endif
};

#define N_CALLS(list) ((unsigned)(sizeof(list) / sizeof((list)[0])))

const struct sandbox_call *
sandbox_calls(int opener, unsigned *n)
{
	*n = opener ? N_CALLS(opener_allowed) : N_CALLS(allowed);
	return opener ? opener_allowed : allowed;
}

#ifdef PRH_NO_SANDBOX
/* Development builds under sanitizers or valgrind, whose runtimes make
 * system calls the filter does not allow (make SANDBOX=0). */
int
sandbox_enter(void)
{
	log_info("built without the seccomp sandbox");
	return 1;
}

int
sandbox_enter_opener(void)
{
	return 1;
}
#else

/*
 * The architecture the filter checks first: a system call made through
 * another ABI (a 32-bit one on a 64-bit kernel) has other numbers, so it is
 * killed. Only architectures whose system call lists were checked against
 * what the binary really makes are here; any other fails to build rather
 * than run unfiltered (SANDBOX=0 builds without the filter on purpose).
 */
#if defined(__x86_64__) && !defined(__ILP32__)
#define SANDBOX_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__) && !defined(__AARCH64EB__) && !defined(__ILP32__)
#define SANDBOX_AUDIT_ARCH AUDIT_ARCH_AARCH64
#elif defined(__arm__) && !defined(__ARMEB__)
#define SANDBOX_AUDIT_ARCH AUDIT_ARCH_ARM
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SANDBOX_AUDIT_ARCH AUDIT_ARCH_PPC64LE
#elif defined(__s390x__)
#define SANDBOX_AUDIT_ARCH AUDIT_ARCH_S390X
#elif defined(__riscv) && __riscv_xlen == 64
#define SANDBOX_AUDIT_ARCH AUDIT_ARCH_RISCV64
#else
#error "no seccomp allow-list for this architecture (src/sandbox.c); SANDBOX=0 builds without the filter"
#endif

/* clone's flags argument: the first, but the second on s390 (its stack
 * pointer comes first there). */
#if defined(__s390x__)
#define CLONE_FLAGS_ARG 1
#else
#define CLONE_FLAGS_ARG 0
#endif

/* ioctl request numbers (from <scsi/sg.h> and <linux/nvme_ioctl.h>). */
#define IOCTL_SG_IO               0x2285
#define IOCTL_SG_GET_VERSION_NUM  0x2282
#define IOCTL_NVME_ID             0x4e40
#define CLONE_THREAD_FLAG         0x00010000

/* Flags that would make an open create or change a file (O_TMPFILE's own
 * bit: the macro includes O_DIRECTORY, which opendir needs). */
#define OPEN_TMPFILE_BIT (O_TMPFILE & ~O_DIRECTORY)
#define OPEN_FORBIDDEN_FLAGS (O_CREAT | O_TRUNC | O_APPEND | OPEN_TMPFILE_BIT)

#define MAX_INSNS 128

struct program {
	struct sock_filter insns[MAX_INSNS];
	unsigned n;
};

static void
emit(struct program *p, struct sock_filter insn)
{
	if (p->n < MAX_INSNS)
		p->insns[p->n] = insn;
	p->n++;
}

/* The low 32 bits of system call argument i. */
static unsigned
arg_low(unsigned i)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (unsigned)offsetof(struct seccomp_data, args) + 8 * i;
#else
	return (unsigned)offsetof(struct seccomp_data, args) + 8 * i + 4;
#endif
}

/*
 * What both filters start with: check the architecture, load the system
 * call number, [x86-64: refuse x32 numbers, which share the architecture
 * value], then one "jeq nr" per allowed call, its target patched later by
 * patch_list(). Returns the position of the first of those.
 */
static unsigned
emit_head(struct program *p, const struct sandbox_call *calls, unsigned n_calls)
{
	unsigned first_jeq;

	p->n = 0;
	emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	                                     offsetof(struct seccomp_data, arch)));
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	                                     SANDBOX_AUDIT_ARCH, 1, 0));
	emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
	emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	                                     offsetof(struct seccomp_data, nr)));
#ifdef __x86_64__
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K,
	                                     0x40000000, 0, 1));
	emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
#endif
	first_jeq = p->n;
	for (unsigned i = 0; i < n_calls; i++)
		emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
		                                     (unsigned)calls[i].nr, 0, 0));
	return first_jeq;
}

/* Point the jeqs at [from, to) to allow_at; -1 if one is too far for a
 * jump's 8 bits. */
static int
patch_list(struct program *p, unsigned from, unsigned to, unsigned allow_at)
{
	for (unsigned i = from; i < to; i++) {
		if (allow_at - i - 1 > 255)
			return -1;
		p->insns[i].jt = (uint8_t)(allow_at - i - 1);
	}
	return 0;
}

/*
 * Layout (jumps are relative and forward only):
 *   check arch; load nr; [x86-64: refuse x32 numbers]
 *   for each allowed nr: jeq -> ALLOW
 *   jeq ioctl -> IOCTL; jeq clone -> CLONE; KILL
 *   IOCTL: load arg1; jeq SG_IO -> ALLOW; jeq SG_GET_VERSION_NUM or
 *          NVME_IOCTL_ID -> ENOTTY; KILL
 *   CLONE: load arg0; jset CLONE_THREAD -> ALLOW; KILL
 *   ALLOW, KILL, ENOTTY
 * Targets are patched once their positions are known.
 */
static int
build(struct program *p)
{
	unsigned n_allowed = N_CALLS(allowed);
	unsigned first_jeq, ioctl_at, clone_at, allow_at, kill_at, enotty_at;
	unsigned jeq_ioctl, jeq_clone;
	unsigned ioctl_sg, ioctl_ver, ioctl_nvme, clone_jset;

	first_jeq = emit_head(p, allowed, n_allowed);
	jeq_ioctl = p->n;
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, 0));
	jeq_clone = p->n;
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 0));
	emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));

	ioctl_at = p->n;
	emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, arg_low(1)));
	ioctl_sg = p->n;
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IOCTL_SG_IO, 0, 0));
	/* libsgutils2 asks an sg node for its driver version once, and an
	 * NVMe namespace for its id: both get "not a tty", which the library
	 * handles (SG_IO v3 is then used; NVMe is refused). */
	ioctl_ver = p->n;
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	                                     IOCTL_SG_GET_VERSION_NUM, 0, 0));
	ioctl_nvme = p->n;
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IOCTL_NVME_ID, 0, 0));
	emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));

	/* Threads only: a clone without CLONE_THREAD would be a fork. */
	clone_at = p->n;
	emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	                                     arg_low(CLONE_FLAGS_ARG)));
	clone_jset = p->n;
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K,
	                                     CLONE_THREAD_FLAG, 0, 0));
	kill_at = p->n;
	emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
	allow_at = p->n;
	emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
	enotty_at = p->n;
	emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	                                     SECCOMP_RET_ERRNO | (ENOTTY & SECCOMP_RET_DATA)));
	if (p->n > MAX_INSNS)
		return -1;

	/* Patch the forward jumps; each must fit in 8 bits. */
	if (patch_list(p, first_jeq, jeq_ioctl, allow_at) < 0)
		return -1;
#define TARGET(from, to) ((to) - (from) - 1)
	p->insns[jeq_ioctl].jt = (uint8_t)TARGET(jeq_ioctl, ioctl_at);
	p->insns[jeq_clone].jt = (uint8_t)TARGET(jeq_clone, clone_at);
	p->insns[ioctl_sg].jt = (uint8_t)TARGET(ioctl_sg, allow_at);
	p->insns[ioctl_ver].jt = (uint8_t)TARGET(ioctl_ver, enotty_at);
	p->insns[ioctl_nvme].jt = (uint8_t)TARGET(ioctl_nvme, enotty_at);
	p->insns[clone_jset].jt = (uint8_t)TARGET(clone_jset, allow_at);
	p->insns[clone_jset].jf = (uint8_t)TARGET(clone_jset, kill_at);
#undef TARGET
	return 0;
}

/*
 * The opener's filter: check arch; load nr; [x86-64: refuse x32]; each
 * allowed nr -> ALLOW; openat (and open, where it exists) -> OPEN; KILL.
 * OPEN: load the flags; any flag that creates or changes a file -> KILL;
 * else ALLOW.
 */
static int
build_opener(struct program *p)
{
	unsigned n_allowed = N_CALLS(opener_allowed);
	unsigned first_jeq, jeq_openat, open_at, allow_at, kill_at, flags_jset;
#ifdef __NR_open
	unsigned jeq_open, open_legacy_at, legacy_jset;
#endif

	first_jeq = emit_head(p, opener_allowed, n_allowed);
	jeq_openat = p->n;
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat, 0, 0));
#ifdef __NR_open
	jeq_open = p->n;
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_open, 0, 0));
#endif
	emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
	/* openat(dirfd, path, flags, mode): flags are argument 2. */
	open_at = p->n;
	emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, arg_low(2)));
	flags_jset = p->n;
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K,
	                                     OPEN_FORBIDDEN_FLAGS, 0, 0));
#ifdef __NR_open
	/* open(path, flags, mode): flags are argument 1. */
	open_legacy_at = p->n;
	emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, arg_low(1)));
	legacy_jset = p->n;
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K,
	                                     OPEN_FORBIDDEN_FLAGS, 0, 0));
#endif
	kill_at = p->n;
	emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
	allow_at = p->n;
	emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
	if (p->n > MAX_INSNS)
		return -1;

	if (patch_list(p, first_jeq, jeq_openat, allow_at) < 0)
		return -1;
#define TARGET(from, to) ((to) - (from) - 1)
	p->insns[jeq_openat].jt = (uint8_t)TARGET(jeq_openat, open_at);
	p->insns[flags_jset].jt = (uint8_t)TARGET(flags_jset, kill_at);
	p->insns[flags_jset].jf = (uint8_t)TARGET(flags_jset, allow_at);
#ifdef __NR_open
	p->insns[jeq_open].jt = (uint8_t)TARGET(jeq_open, open_legacy_at);
	p->insns[legacy_jset].jt = (uint8_t)TARGET(legacy_jset, kill_at);
	p->insns[legacy_jset].jf = (uint8_t)TARGET(legacy_jset, allow_at);
#endif
#undef TARGET
	return 0;
}

static int
install(struct program *p, unsigned flags)
{
	struct sock_fprog prog;

	prog.len = (unsigned short)p->n;
	prog.filter = p->insns;
	return (int)syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

int
sandbox_enter_opener(void)
{
	static struct program p;

	if (build_opener(&p) < 0) {
		log_error("the opener's seccomp filter does not fit");
		return -1;
	}
	/* The helper's own filter (installed after the fork) does not reach
	 * this process: it needs its own, before it reads a request. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) < 0 || install(&p, 0) != 0) {
		if (errno == ENOSYS || errno == EINVAL)
			return 1;   /* as for the helper: sandbox_enter() warns */
		log_error("multipath: cannot install the opener's seccomp filter: %s",
		          strerror(errno));
		return -1;
	}
	return 0;
}

int
sandbox_enter(void)
{
	static struct program p;

	if (build(&p) < 0) {
		log_error("seccomp filter does not fit");
		return -1;
	}
	/* TSYNC: the worker threads already running get the filter too. */
	if (install(&p, SECCOMP_FILTER_FLAG_TSYNC) != 0) {
		if (errno == ENOSYS || errno == EINVAL) {
			log_warn("seccomp filtering unavailable (%s); running without "
			         "the system call sandbox", strerror(errno));
			return 1;
		}
		log_error("cannot install the seccomp filter: %s", strerror(errno));
		return -1;
	}
	return 0;
}

#endif /* PRH_NO_SANDBOX */
