/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpath_opener.c: owns the opener, a process forked at start-up that
 * answers one question for the helper: "the block device behind this fd,
 * is it a dm-multipath map, and what are its paths?", and hands back the
 * paths' device nodes opened.
 *
 * Why a process of its own: the helper's seccomp filter forbids opening
 * files, which is what keeps a subverted helper (it holds CAP_SYS_RAWIO)
 * from reaching any disk it was not handed. The opener may open files,
 * but holds no capability, and it takes no path from the helper: it is
 * sent the map's fd (which a client passed to the helper, so access to
 * the map is proven) and derives everything else from sysfs itself. The
 * worst a subverted helper can get from it is the paths of maps it was
 * given. See docs/security.md.
 *
 * Protocol, over a SOCK_SEQPACKET socketpair: the helper sends a struct
 * opener_request with the map's fd attached; the opener answers with a
 * struct opener_reply (same sequence number) and the opened path fds
 * attached, in path order. A reply whose number is not the question's is
 * a late answer to a question that timed out, and is dropped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mpath_opener.h"
#include "priv.h"
#include "sandbox.h"

#define OPENER_VERSION 1

struct opener_request {
	uint32_t version;
	uint32_t seq;
	uint32_t want_write;
};

struct opener_path {
	char name[32];
	uint64_t dev;
	uint32_t running;
	uint32_t initiator;
	int32_t open_err;
};

struct opener_reply {
	uint32_t version;
	uint32_t seq;
	int32_t err;            /* the question could not be answered */
	uint32_t is_dm, is_multipath, truncated;
	uint32_t n_paths;
	struct opener_path paths[MPATH_OPENER_MAX_PATHS];
};

static int opener_fd = -1;          /* helper's end of the socketpair */
static pid_t opener_pid = -1;
static uint32_t opener_seq;
static pthread_mutex_t opener_lock = PTHREAD_MUTEX_INITIALIZER;

/* Where sysfs and the device nodes are. Test builds may point them at a
 * directory tree that stands in for a host with multipath maps. */
static const char *sysfs_root = "/sys";
static const char *dev_root = "/dev";
/* Test builds with PRH_TEST_DEV_ROOT: a FIFO there stands for a path's
 * node (the test build answers commands on FIFOs, see sgio.c). */
static bool fifo_paths;
#ifdef PRH_TEST_HOOKS
static const char *test_create_path;    /* PRH_TEST_OPENER_CREATE */
static const char *test_stderr_path;    /* PRH_TEST_OPENER_STDERR */
#endif

bool
mpath_parse_devnum(const char *text, uint64_t *dev)
{
	unsigned long maj, min;
	char *end;

	if (text[0] < '0' || text[0] > '9')
		return false;
	errno = 0;
	maj = strtoul(text, &end, 10);
	if (errno != 0 || *end != ':' || end[1] < '0' || end[1] > '9')
		return false;
	min = strtoul(end + 1, &end, 10);
	if (errno != 0 || (*end != '\0' && *end != '\n') || (*end == '\n' && end[1] != '\0'))
		return false;
	if (maj > 0xfffff || min > 0xfffff)
		return false;
	*dev = makedev((unsigned)maj, (unsigned)min);
	return true;
}

long
mpath_parse_scsi_host(const char *link)
{
	const char *base = strrchr(link, '/');
	unsigned long host, c, t, l;
	char tail;

	base = base != NULL ? base + 1 : link;
	if (sscanf(base, "%lu:%lu:%lu:%lu%c", &host, &c, &t, &l, &tail) != 4 ||
	    host > 0xfffffffeul)
		return -1;
	return (long)host;
}

bool
mpath_uuid_is_multipath(const char *uuid)
{
	return strncmp(uuid, "mpath-", 6) == 0;
}

/* ---- one message with descriptors, both ways ---------------------------- */

/* Send len bytes at buf with n_fds descriptors attached (0 to
 * MPATH_OPENER_MAX_PATHS). Returns 0 or a negative errno. */
static int
send_with_fds(int sock, const void *buf, size_t len, const int *fds, unsigned n_fds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * MPATH_OPENER_MAX_PATHS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)(uintptr_t)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (n_fds > MPATH_OPENER_MAX_PATHS)
		return -EINVAL;
	if (n_fds > 0) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		ctl.align.cmsg_level = SOL_SOCKET;
		ctl.align.cmsg_type = SCM_RIGHTS;
		ctl.align.cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(&ctl.align), fds, sizeof(int) * n_fds);
	}
	while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

/*
 * Receive one message into buf, with at most max_fds descriptors (at most
 * MPATH_OPENER_MAX_PATHS) into fds and their number in *n_fds; the kernel
 * drops any beyond room and *truncated says so. Returns recvmsg's result.
 */
static ssize_t
recv_with_fds(int sock, void *buf, size_t len, int *fds, unsigned max_fds,
              unsigned *n_fds, bool *truncated, int flags)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * MPATH_OPENER_MAX_PATHS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = CMSG_SPACE(sizeof(int) * max_fds),
	};
	ssize_t n;

	*n_fds = 0;
	*truncated = false;
	n = recvmsg(sock, &msg, flags | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return n;
	*truncated = (msg.msg_flags & MSG_CTRUNC) != 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm)) {
		unsigned k;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (unsigned)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (unsigned i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (*n_fds < max_fds)
				fds[(*n_fds)++] = fd;
			else
				close(fd);
		}
	}
	return n;
}

/* ---- the opener process ------------------------------------------------- */

/* A small sysfs attribute, without its trailing newline. */
static int
read_attr(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(((const struct opener_path *)a)->name,
	              ((const struct opener_path *)b)->name);
}

/* Open a path's node, /dev/NAME (else /dev/block/MAJ:MIN, which udev
 * makes), and check it is the block device sysfs named. */
static int
open_path(const struct opener_path *p, bool want_write, int *fd_out)
{
	char node[128];
	struct stat st;
	int flags = (want_write ? O_RDWR : O_RDONLY) | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
	int fd;

	snprintf(node, sizeof(node), "%s/%s", dev_root, p->name);
	fd = open(node, flags);
	if (fd < 0 && errno == ENOENT) {
		snprintf(node, sizeof(node), "%s/block/%u:%u", dev_root,
		         major((dev_t)p->dev), minor((dev_t)p->dev));
		fd = open(node, flags);
	}
	if (fd < 0)
		return errno;
	if (fifo_paths && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) {
		*fd_out = fd;
		return 0;
	}
	if (fstat(fd, &st) < 0 || !S_ISBLK(st.st_mode) || (uint64_t)st.st_rdev != p->dev) {
		close(fd);
		return ENODEV;
	}
	*fd_out = fd;
	return 0;
}

static void
answer(int sock, const struct opener_request *req, int map_fd, struct opener_reply *rep,
       int *fds, unsigned *n_fds)
{
	char path[256], text[128];
	struct stat st;
	DIR *dir;
	struct dirent *de;
	unsigned maj, min;

	(void)sock;
	if (map_fd < 0 || fstat(map_fd, &st) < 0) {
		rep->err = EBADF;
		return;
	}
	if (!S_ISBLK(st.st_mode))
		return;         /* not a block device: not a map */
	maj = major(st.st_rdev);
	min = minor(st.st_rdev);
	snprintf(path, sizeof(path), "%s/dev/block/%u:%u/dm/uuid", sysfs_root, maj, min);
	if (read_attr(path, text, sizeof(text)) < 0)
		return;         /* no dm directory: not device-mapper */
	rep->is_dm = 1;
	if (!mpath_uuid_is_multipath(text))
		return;
	rep->is_multipath = 1;

	snprintf(path, sizeof(path), "%s/dev/block/%u:%u/slaves", sysfs_root, maj, min);
	dir = opendir(path);
	if (dir == NULL) {
		rep->err = errno;
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		struct opener_path *p;

		if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(p->name))
			continue;
		if (rep->n_paths == MPATH_OPENER_MAX_PATHS) {
			rep->truncated = 1;
			continue;
		}
		p = &rep->paths[rep->n_paths];
		memset(p, 0, sizeof(*p));
		strcpy(p->name, de->d_name);
		snprintf(path, sizeof(path), "%s/class/block/%s/dev", sysfs_root, p->name);
		if (read_attr(path, text, sizeof(text)) < 0 || !mpath_parse_devnum(text, &p->dev))
			continue;       /* gone while we looked */
		rep->n_paths++;
	}
	closedir(dir);
	/* Name order: the same map gives the same path order every time. */
	qsort(rep->paths, rep->n_paths, sizeof(rep->paths[0]), compare_names);

	for (unsigned i = 0; i < rep->n_paths; i++) {
		struct opener_path *p = &rep->paths[i];

		snprintf(path, sizeof(path), "%s/class/block/%s/device/state", sysfs_root,
		         p->name);
		p->running = read_attr(path, text, sizeof(text)) == 0 &&
		             strcmp(text, "running") == 0;
		/* The SCSI host is the initiator port: ALL_TG_PT registrations
		 * cover every path through it (mpath_plan.h). */
		snprintf(path, sizeof(path), "%s/class/block/%s/device", sysfs_root, p->name);
		{
			ssize_t n = readlink(path, text, sizeof(text) - 1);
			long host;

			if (n > 0) {
				text[n] = '\0';
				host = mpath_parse_scsi_host(text);
				if (host >= 0)
					p->initiator = (uint32_t)host + 1;
			}
		}
		/* An offline SCSI device refuses the open (ENXIO) anyway. */
		if (!p->running) {
			p->open_err = ENXIO;
			continue;
		}
		p->open_err = open_path(p, req->want_write != 0, &fds[*n_fds]);
		if (p->open_err == 0)
			(*n_fds)++;
	}
}

static void
serve_requests(int sock)
{
	for (;;) {
		struct opener_request req;
		struct opener_reply rep;
		int map_fd = -1, fds[MPATH_OPENER_MAX_PATHS];
		unsigned n_in = 0, n_fds = 0;
		bool truncated;
		ssize_t n;

		n = recv_with_fds(sock, &req, sizeof(req), &map_fd, 1, &n_in, &truncated, 0);
		if (n == 0)
			return;         /* the helper is gone */
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (n_in == 0)
			map_fd = -1;
		memset(&rep, 0, sizeof(rep));
		rep.version = OPENER_VERSION;
		rep.seq = req.seq;
#ifdef PRH_TEST_HOOKS
		/* Tests of the filter: this must kill the opener. */
		if (test_create_path != NULL)
			close(open(test_create_path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
#endif
		if ((size_t)n != sizeof(req) || req.version != OPENER_VERSION || truncated)
			rep.err = EINVAL;
		else
			answer(sock, &req, map_fd, &rep, fds, &n_fds);
		if (map_fd >= 0)
			close(map_fd);
		send_with_fds(sock, &rep, sizeof(rep), fds, n_fds);
		for (unsigned i = 0; i < n_fds; i++)
			close(fds[i]);
	}
}

/* The child, from fork to exit: keep only its socket (and stdin/out/err,
 * which start-up pointed at /dev/null or the terminal), lose every
 * capability, enter its filter, answer until the helper goes away. */
static void
opener_main(int sock, bool detached)
{
	struct sigaction sa;
	int null_fd;

#ifdef PRH_TEST_HOOKS
	/* t_syscalls: the opener's standard error, and with it qemu-user's
	 * trace of this process, in a file of its own, so that the two
	 * processes' trace lines cannot interleave. */
	if (test_stderr_path != NULL) {
		int fd = open(test_stderr_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		if (fd >= 0 && fd != 2) {
			dup2(fd, 2);
			close(fd);
		}
	}
#endif
	/* The helper's stop signals are the helper's: a terminal's ^C or a
	 * kill of the process group must not take the opener first. It ends
	 * when the helper's end of the socket closes, or with the helper. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0L, 0L, 0L);
	if (getppid() == 1)
		_exit(0);
	/* A helper started with -d lets go of the terminal (or of whatever
	 * waits for end of file on its output) once it is ready: so must we,
	 * now, since it will not be able to tell us. */
	if (detached) {
		null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null_fd < 0)
			_exit(1);
		for (int fd = 0; fd <= 2; fd++)
			if (null_fd != fd)
				dup2(null_fd, fd);
		if (null_fd > 2 && null_fd != sock)
			close(null_fd);
	}
	if (sock != 3) {
		if (dup2(sock, 3) < 0)
			_exit(1);
		sock = 3;
	}
	/* Everything else the helper had open (listener, pid file, trace
	 * output, -d's readiness pipe) stays with the helper. */
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 4u, ~0u, 0u) < 0)
#endif
	{
		for (int fd = 4; fd < 4096; fd++)
			close(fd);
	}
	if (priv_drop_all() < 0 || sandbox_enter_opener() < 0)
		_exit(1);
	serve_requests(sock);
	_exit(0);
}

int
mpath_opener_start(bool detached)
{
	int sv[2];
	pid_t pid;

#ifdef PRH_TEST_HOOKS
	if (getenv("PRH_TEST_SYSFS_ROOT") != NULL)
		sysfs_root = getenv("PRH_TEST_SYSFS_ROOT");
	test_create_path = getenv("PRH_TEST_OPENER_CREATE");
	test_stderr_path = getenv("PRH_TEST_OPENER_STDERR");
	if (getenv("PRH_TEST_DEV_ROOT") != NULL) {
		dev_root = getenv("PRH_TEST_DEV_ROOT");
		fifo_paths = true;
	}
#endif
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_error("multipath: cannot create the opener's socket: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		log_error("multipath: cannot start the opener: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		opener_main(sv[1], detached);
	}
	close(sv[1]);
	opener_fd = sv[0];
	opener_pid = pid;
	log_debug("multipath: path opener started (pid %ld)", (long)pid);
	return 0;
}

bool
mpath_opener_running(void)
{
	return opener_fd >= 0;
}

void
mpath_found_close(struct mpath_found *found)
{
	for (unsigned i = 0; i < found->n_paths; i++) {
		if (found->paths[i].fd >= 0)
			close(found->paths[i].fd);
		found->paths[i].fd = -1;
	}
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Receive the reply numbered seq, dropping late replies to earlier
 * questions (and their fds). Lock held. */
static int
receive_reply(uint32_t seq, struct opener_reply *rep, int *fds, unsigned *n_fds)
{
	uint64_t deadline = now_ms() + MPATH_OPENER_TIMEOUT_MS;

	for (;;) {
		struct pollfd pfd = { .fd = opener_fd, .events = POLLIN };
		struct timespec ts;
		uint64_t now = now_ms();
		bool truncated;
		ssize_t n;
		int r;

		if (now >= deadline)
			return -ETIMEDOUT;
		ts.tv_sec = (time_t)((deadline - now) / 1000u);
		ts.tv_nsec = (long)((deadline - now) % 1000u) * 1000000L;
		r = ppoll(&pfd, 1, &ts, NULL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		n = recv_with_fds(opener_fd, rep, sizeof(*rep), fds, MPATH_OPENER_MAX_PATHS,
		                  n_fds, &truncated, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return -EPIPE;
		if ((size_t)n == sizeof(*rep) && rep->version == OPENER_VERSION &&
		    rep->seq == seq)
			return 0;
		/* A late answer (or garbage): drop it with its fds. */
		for (unsigned i = 0; i < *n_fds; i++)
			close(fds[i]);
	}
}

int
mpath_opener_query(int map_fd, bool want_write, struct mpath_found *found)
{
	struct opener_request req = { .version = OPENER_VERSION, .want_write = want_write };
	struct opener_reply rep;
	int fds[MPATH_OPENER_MAX_PATHS];
	unsigned n_fds = 0, next_fd = 0;
	int r;

	memset(found, 0, sizeof(*found));
	if (opener_fd < 0)
		return -ENOSYS;
	pthread_mutex_lock(&opener_lock);
	req.seq = ++opener_seq;
	r = send_with_fds(opener_fd, &req, sizeof(req), &map_fd, 1);
	if (r < 0) {
		pthread_mutex_unlock(&opener_lock);
		return r == -ECONNRESET ? -EPIPE : r;
	}
	r = receive_reply(req.seq, &rep, fds, &n_fds);
	pthread_mutex_unlock(&opener_lock);
	if (r < 0)
		return r;
	if (rep.err != 0) {
		for (unsigned i = 0; i < n_fds; i++)
			close(fds[i]);
		return -rep.err;
	}
	found->is_dm = rep.is_dm != 0;
	found->is_multipath = rep.is_multipath != 0;
	found->truncated = rep.truncated != 0;
	found->n_paths = rep.n_paths <= MPATH_OPENER_MAX_PATHS ? rep.n_paths : 0;
	for (unsigned i = 0; i < found->n_paths; i++) {
		struct mpath_found_path *p = &found->paths[i];

		memcpy(p->name, rep.paths[i].name, sizeof(p->name));
		p->name[sizeof(p->name) - 1] = '\0';
		p->dev = rep.paths[i].dev;
		p->running = rep.paths[i].running != 0;
		p->initiator = rep.paths[i].initiator;
		p->open_err = rep.paths[i].open_err;
		p->fd = -1;
		if (p->open_err == 0) {
			if (next_fd < n_fds)
				p->fd = fds[next_fd++];
			else
				p->open_err = EBADF;
		}
	}
	/* Fds the reply did not account for. */
	while (next_fd < n_fds)
		close(fds[next_fd++]);
	return 0;
}

void
mpath_opener_stop(void)
{
	if (opener_fd >= 0) {
		close(opener_fd);
		opener_fd = -1;
	}
	/* The opener exits on end of file. Wait for it, so that when the
	 * helper has exited, so has it; but not for ever: one stuck in an
	 * open() of a hung device is killed when we exit (PDEATHSIG). */
	for (int i = 0; opener_pid > 0 && i < 200; i++) {
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 10 * 1000000L };
		pid_t r = waitpid(opener_pid, NULL, WNOHANG);

		if (r == opener_pid || (r < 0 && errno != EINTR))
			break;
		nanosleep(&ts, NULL);
	}
	opener_pid = -1;
}
