/*
 * sysloop: in-container micro-benchmarks for the bench's sandbox cases. It
 * times its own loops with CLOCK_MONOTONIC and prints one "name value" line
 * per figure, which the bench parses from the container's stdout.
 *
 *   sysloop sys N          N getpid(), N stat("/"), then N open()+close() of
 *                          a regular file (/bin/sysloop): ns per call (pair)
 *   sysloop write N BS     N writes of BS bytes to /dev/null: ns per write, MB/s
 *   sysloop read FILE BS [PASSES]
 *                          read FILE to its end in BS-byte reads, PASSES times
 *                          (default 1, seeking back to 0 between): ns per read, MB/s
 *
 * Built by the bench with gcc -static -O2.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int usage(void)
{
	fprintf(stderr, "usage: sysloop sys N | write N BS | read FILE BS [PASSES]\n");
	return 2;
}

static int do_sys(long n)
{
	struct stat st;
	double t0, t1, t2, t3;
	long i;
	int fd;

	t0 = now_ns();
	for (i = 0; i < n; i++)
		syscall(SYS_getpid); /* the raw call: nothing in libc may cache it */
	t1 = now_ns();
	for (i = 0; i < n; i++) {
		if (stat("/", &st) != 0) {
			perror("stat /");
			return 1;
		}
	}
	t2 = now_ns();
	for (i = 0; i < n; i++) {
		fd = open("/bin/sysloop", O_RDONLY);
		if (fd < 0) {
			perror("open /bin/sysloop");
			return 1;
		}
		close(fd);
	}
	t3 = now_ns();
	printf("getpid_ns %.1f\n", (t1 - t0) / (double)n);
	printf("stat_ns %.1f\n", (t2 - t1) / (double)n);
	printf("open_ns %.1f\n", (t3 - t2) / (double)n);
	return 0;
}

static int do_write(long n, long bs)
{
	char *buf = calloc(1, (size_t)bs);
	double t0, t1;
	long i;
	int fd = open("/dev/null", O_WRONLY);

	if (fd < 0 || buf == NULL) {
		perror("open /dev/null");
		return 1;
	}
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		if (write(fd, buf, (size_t)bs) != bs) {
			perror("write");
			return 1;
		}
	}
	t1 = now_ns();
	printf("write_ns %.1f\n", (t1 - t0) / (double)n);
	printf("write_MBps %.1f\n", (double)n * (double)bs / ((t1 - t0) / 1e9) / 1e6);
	return 0;
}

static int do_read(const char *path, long bs, long passes)
{
	char *buf = malloc((size_t)bs);
	double t0, t1, total = 0;
	long calls = 0, pass;
	ssize_t got = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || buf == NULL) {
		perror(path);
		return 1;
	}
	t0 = now_ns();
	for (pass = 0; pass < passes && got >= 0; pass++) {
		if (lseek(fd, 0, SEEK_SET) != 0) {
			perror("lseek");
			return 1;
		}
		while ((got = read(fd, buf, (size_t)bs)) > 0) {
			total += (double)got;
			calls++;
		}
	}
	t1 = now_ns();
	if (got < 0) {
		perror("read");
		return 1;
	}
	if (calls == 0)
		calls = 1;
	printf("read_ns %.1f\n", (t1 - t0) / (double)calls);
	printf("read_MBps %.1f\n", total / ((t1 - t0) / 1e9) / 1e6);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "sys") == 0)
		return do_sys(atol(argv[2]));
	if (argc == 4 && strcmp(argv[1], "write") == 0)
		return do_write(atol(argv[2]), atol(argv[3]));
	if ((argc == 4 || argc == 5) && strcmp(argv[1], "read") == 0)
		return do_read(argv[2], atol(argv[3]), argc == 5 ? atol(argv[4]) : 1);
	return usage();
}
