// SPDX-License-Identifier: Apache-2.0
/*
 * tests/servers/tcp_send.c: connects to HOST PORT over TCP, writes MESSAGE, closes,
 * exits 0 (1 on any error). tests/integration/test_capture.c execs it as a process
 * whose executable the agent watches (kspan --exe).
 */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV },
			*ai;
	size_t len;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: %s HOST PORT MESSAGE\n", argv[0]);
		return 1;
	}
	if (getaddrinfo(argv[1], argv[2], &hints, &ai)) {
		fprintf(stderr, "tcp_send: cannot resolve %s port %s\n", argv[1], argv[2]);
		return 1;
	}
	fd = socket(ai->ai_family, ai->ai_socktype, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		perror("tcp_send: connect");
		return 1;
	}
	freeaddrinfo(ai);
	len = strlen(argv[3]);
	if (write(fd, argv[3], len) != (ssize_t)len) {
		perror("tcp_send: write");
		return 1;
	}
	return close(fd) ? 1 : 0;
}
