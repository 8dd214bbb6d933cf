// SPDX-License-Identifier: Apache-2.0
/*
 * http_server: a small thread-per-connection HTTP/1.1 server for the agent's
 * integration tests. Listens on 127.0.0.1 (port from argv[1], 0 = any),
 * prints "port N" on stdout once listening, and serves keep-alive and
 * pipelined requests:
 *   GET/HEAD /users/<id>  200, JSON body with Content-Length
 *   GET /chunked          200, chunked body of three chunks (15 data bytes)
 *   GET /fail             500
 *   POST /orders          201 after reading the Content-Length body
 *   anything else         404
 * Bytes that are not HTTP make it close the connection.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int respond(int fd, const char *method, const char *path)
{
	char buf[512];
	int n;

	if (!strncmp(path, "/users/", 7)) {
		char body[128];
		int bl = snprintf(body, sizeof(body), "{\"id\":\"%s\"}", path + 7);

		n = snprintf(buf, sizeof(buf),
			     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			     "Content-Length: %d\r\n\r\n%s",
			     bl, strcmp(method, "HEAD") ? body : "");
	} else if (!strcmp(path, "/chunked")) {
		n = snprintf(buf, sizeof(buf),
			     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			     "5\r\nhello\r\n5\r\n, wor\r\n5\r\nld!!!\r\n0\r\n\r\n");
	} else if (!strcmp(path, "/fail")) {
		n = snprintf(buf, sizeof(buf),
			     "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\n\r\noops!");
	} else if (!strcmp(path, "/orders") && !strcmp(method, "POST")) {
		n = snprintf(buf, sizeof(buf), "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
	} else {
		n = snprintf(buf, sizeof(buf),
			     "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found");
	}
	return send_all(fd, buf, (size_t)n);
}

static bool is_method(const char *m)
{
	for (; *m; m++)
		if (*m < 'A' || *m > 'Z')
			return false;
	return true;
}

/* Serve one connection: parse request heads out of a buffer, read bodies by Content-Length. */
static void *serve(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[16384];
	size_t have = 0;

	for (;;) {
		char *end = memmem(buf, have, "\r\n\r\n", 4);
		char method[16], path[256];
		size_t head, body = 0;
		const char *cl;

		if (!end) {
			ssize_t r;

			if (have == sizeof(buf))
				break;
			r = read(fd, buf + have, sizeof(buf) - have);
			if (r <= 0)
				break;
			have += (size_t)r;
			continue;
		}
		head = (size_t)(end - buf) + 4;
		buf[head - 1] = '\0';
		if (sscanf(buf, "%15s %255s", method, path) != 2 || !is_method(method) ||
		    !strstr(buf, " HTTP/1."))
			break; /* not HTTP: hang up */
		cl = strcasestr(buf, "\r\nContent-Length:");
		if (cl)
			body = strtoul(cl + 17, NULL, 10);
		while (have < head + body && have < sizeof(buf)) {
			ssize_t r = read(fd, buf + have, sizeof(buf) - have);

			if (r <= 0)
				goto out;
			have += (size_t)r;
		}
		if (respond(fd, method, path))
			break;
		memmove(buf, buf + head + body, have - head - body);
		have -= head + body;
	}
out:
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int one = 1, lfd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_port = htons(argc > 1 ? (uint16_t)atoi(argv[1]) : 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 64) ||
	    getsockname(lfd, (struct sockaddr *)&sa, &len)) {
		perror("http_server");
		return 1;
	}
	printf("port %u\n", ntohs(sa.sin_port));
	fflush(stdout);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		pthread_t th;

		if (fd < 0)
			continue;
		if (pthread_create(&th, NULL, serve, (void *)(intptr_t)fd)) {
			close(fd);
			continue;
		}
		pthread_detach(th);
	}
}
