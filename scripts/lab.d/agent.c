// SPDX-License-Identifier: GPL-2.0
/*
 * imee-agent: runs shell command lines inside an L2 target for
 * imee-lab-exec (scripts/lab.d/bin/imee-lab-exec), over the virtio-serial
 * port named "imee.agent". Built static by `scripts/lab prepare`, started
 * (and restarted, should it die) by busybox init in the L2 initramfs.
 *
 * Why C and virtio: in this lab every port access of an L2 guest is a
 * nested exit, emulated by QEMU's TCG: about half a millisecond. A serial
 * port costs one exit per byte (20 KB of output: 10 s), and a shell agent
 * forks a dozen processes per request. A virtio port moves a buffer per
 * exit, and this program forks only the command's /bin/sh.
 *
 * Protocol, one request at a time (imee-lab-exec serializes its callers):
 *   request:   "imee-lab-req MARKER LIMIT LENGTH\n" then LENGTH bytes of
 *              shell command line
 *   response:  "\nMARKER out N\n" N bytes of stdout
 *              "\nMARKER err N\n" N bytes of stderr
 *              "\nMARKER rc STATUS ok|timeout\n"
 * MARKER is random per request, so leftovers of an abandoned exchange
 * cannot be taken for an answer, and the byte counts make any output safe.
 * When the agent starts it says "\nimee-lab-agent ready\n" (the lab waits
 * for that, or for an answer, to call the target booted).
 *
 * The command runs as root under "/bin/sh -c", stdin /dev/null, in a new
 * session; after LIMIT seconds the whole session gets SIGKILL and the
 * state is "timeout". What it leaves running in the background stays.
 *
 * The port reads end-of-file while no client is connected on the host side
 * (L1); the agent then polls for a client every 20 ms. A write while no
 * client is connected blocks until one connects: that client then reads the
 * stale answer first, and skips it by its marker.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PORT_NAME "imee.agent"
#define PORTS_SYSFS "/sys/class/virtio-ports"
#define REQUEST_TAG "imee-lab-req "
#define MAX_LINE 256
#define MAX_COMMAND (1 << 20)
#define MAX_LIMIT (24 * 3600)

static int port = -1;
static char inbuf[64 * 1024];
static size_t inlen;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("imee-agent: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void pause_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* /dev/vportNpM of the port named PORT_NAME, waiting for the driver to
 * learn the names from the host (they arrive after the device probes). */
static int open_port(void)
{
	for (int tries = 0; tries < 1000; tries++) {
		DIR *dir = opendir(PORTS_SYSFS);
		struct dirent *e;

		while (dir && (e = readdir(dir))) {
			char path[300], name[64] = "";
			FILE *f;

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), PORTS_SYSFS "/%s/name", e->d_name);
			f = fopen(path, "r");
			if (!f)
				continue;
			if (!fgets(name, sizeof(name), f))
				name[0] = '\0';
			fclose(f);
			name[strcspn(name, "\n")] = '\0';
			if (!strcmp(name, PORT_NAME)) {
				int fd;

				snprintf(path, sizeof(path), "/dev/%s", e->d_name);
				fd = open(path, O_RDWR | O_CLOEXEC);
				if (fd >= 0) {
					closedir(dir);
					return fd;
				}
			}
		}
		if (dir)
			closedir(dir);
		pause_ms(10);
	}
	die("no virtio port named " PORT_NAME);
	return -1;
}

static void write_all(const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(port, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("writing to the port: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
}

static void write_fmt(const char *fmt, ...)
{
	char buf[MAX_LINE];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	write_all(buf, (size_t)n);
}

/* Read more input; returns 0 on success, -1 if the host side is gone (the
 * buffered input is then dropped: it belonged to a client that left). */
static int fill(void)
{
	ssize_t n;

	if (inlen == sizeof(inbuf))
		inlen = 0; /* a line this long is no request: drop it */
	do
		n = read(port, inbuf + inlen, sizeof(inbuf) - inlen);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		inlen = 0;
		return -1;
	}
	inlen += (size_t)n;
	return 0;
}

static void consume(size_t n)
{
	memmove(inbuf, inbuf + n, inlen - n);
	inlen -= n;
}

/* The next request line's fields; waits for a client if there is none. */
static void next_request(char *marker, unsigned *limit, size_t *length)
{
	for (;;) {
		char *nl = memchr(inbuf, '\n', inlen);
		char line[MAX_LINE], *req;
		size_t len;
		unsigned long lim, cmdlen;

		if (!nl) {
			if (fill())
				pause_ms(20); /* no client: look again soon */
			continue;
		}
		len = (size_t)(nl - inbuf);
		if (len >= sizeof(line)) {
			consume(len + 1);
			continue;
		}
		memcpy(line, inbuf, len);
		line[len] = '\0';
		consume(len + 1);
		/* the last tag on the line counts: junk may precede it */
		req = line;
		for (char *p; (p = strstr(req + 1, REQUEST_TAG));)
			req = p;
		if (strncmp(req, REQUEST_TAG, strlen(REQUEST_TAG)) ||
		    sscanf(req + strlen(REQUEST_TAG), "%63s %lu %lu", marker, &lim, &cmdlen) != 3 ||
		    cmdlen > MAX_COMMAND)
			continue;
		*limit = lim < 1 ? 1 : lim > MAX_LIMIT ? MAX_LIMIT : (unsigned)lim;
		*length = cmdlen;
		return;
	}
}

/* LENGTH bytes of command; NULL if the client left before sending them. */
static char *read_command(size_t length)
{
	char *cmd = malloc(length + 1);
	size_t done = inlen < length ? inlen : length;

	if (!cmd)
		die("out of memory");
	memcpy(cmd, inbuf, done);
	consume(done);
	while (done < length) {
		ssize_t n = read(port, cmd + done, length - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(cmd);
			return NULL;
		}
		done += (size_t)n;
	}
	cmd[length] = '\0';
	return cmd;
}

static volatile sig_atomic_t alarmed;

static void on_alarm(int sig)
{
	(void)sig;
	alarmed = 1;
}

/* Runs cmd; returns its exit status (128+signal if killed). */
static int run(const char *cmd, unsigned limit, int out, int err, int *timed_out)
{
	struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART */
	int status = 0;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		setsid();
		dup2(null, 0);
		dup2(out, 1);
		dup2(err, 2);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		dprintf(2, "imee-agent: /bin/sh: %s\n", strerror(errno));
		_exit(127);
	}
	alarmed = 0;
	*timed_out = 0;
	sigaction(SIGALRM, &sa, NULL);
	alarm(limit);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
		if (alarmed && !*timed_out) {
			kill(-pid, SIGKILL); /* the session: pid is its leader */
			*timed_out = 1;
		}
	}
	alarm(0);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static void send_file(const char *marker, const char *kind, int fd)
{
	off_t size = lseek(fd, 0, SEEK_END);
	char buf[32 * 1024];

	write_fmt("\n%s %s %lld\n", marker, kind, (long long)size);
	lseek(fd, 0, SEEK_SET);
	while (size > 0) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("reading back the output: %s", n ? strerror(errno) : "short");
		if (n > size) /* the command's leftovers still writing: cut */
			n = size;
		write_all(buf, (size_t)n);
		size -= n;
	}
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	port = open_port();
	write_all("\nimee-lab-agent ready\n", 22);
	for (;;) {
		char marker[64];
		unsigned limit;
		size_t length;
		int out, err, timed_out, status;
		char *cmd;

		next_request(marker, &limit, &length);
		cmd = read_command(length);
		if (!cmd)
			continue;
		out = memfd_create("imee-agent-out", MFD_CLOEXEC);
		err = memfd_create("imee-agent-err", MFD_CLOEXEC);
		if (out < 0 || err < 0)
			die("memfd_create: %s", strerror(errno));
		status = run(cmd, limit, out, err, &timed_out);
		free(cmd);
		send_file(marker, "out", out);
		send_file(marker, "err", err);
		write_fmt("\n%s rc %d %s\n", marker, status, timed_out ? "timeout" : "ok");
		close(out);
		close(err);
	}
}
