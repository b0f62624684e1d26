/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * floor: the least a pr-manager-helper server can do per request, for
 * `make bench` to show how close the real helpers get to the kernel path.
 * One thread, poll(): accept, feature exchange, then per request recvmsg
 * (the CDB and its fd), the SG_IO ioctl, close the fd, sendmsg the reply.
 * No validation, no threads, no privilege drop: not a usable helper.
 *
 *   floor SOCKET_PATH
 */
#include <poll.h>
#include <scsi/sg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_FDS 4096

int
main(int argc, char **argv)
{
	static struct pollfd pfd[MAX_FDS];
	static uint8_t data[8192];
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	nfds_t n = 1;
	int lfd;

	if (argc != 2)
		return 2;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", argv[1]);
	unlink(argv[1]);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(lfd, 4096) < 0) {
		perror("floor");
		return 1;
	}
	pfd[0].fd = lfd;
	pfd[0].events = POLLIN;
	for (;;) {
		if (poll(pfd, n, -1) < 0)
			continue;
		if (pfd[0].revents) {
			int c = accept(lfd, NULL, NULL);
			uint8_t word[4] = { 0 };

			if (c >= 0 && n < MAX_FDS && send(c, word, 4, MSG_NOSIGNAL) == 4 &&
			    recv(c, word, 4, MSG_WAITALL) == 4) {
				pfd[n].fd = c;
				pfd[n].events = POLLIN;
				pfd[n].revents = 0;
				n++;
			} else if (c >= 0) {
				close(c);
			}
		}
		for (nfds_t i = 1; i < n; i++) {
			uint8_t cdb[16], reply[104 + 8192];
			union {
				struct cmsghdr align;
				char buf[CMSG_SPACE(sizeof(int))];
			} control;
			struct iovec iov = { .iov_base = cdb, .iov_len = 16 };
			struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			                      .msg_control = control.buf,
			                      .msg_controllen = sizeof(control.buf) };
			struct cmsghdr *cm;
			sg_io_hdr_t io;
			int dev = -1;
			uint32_t size = 0;

			if (pfd[i].revents == 0)
				continue;
			if (recvmsg(pfd[i].fd, &msg, MSG_WAITALL) != 16) {
				close(pfd[i].fd);
				pfd[i--] = pfd[--n];
				continue;
			}
			cm = CMSG_FIRSTHDR(&msg);
			if (cm != NULL)
				memcpy(&dev, CMSG_DATA(cm), sizeof(int));
			memset(reply, 0, 104);
			memset(&io, 0, sizeof(io));
			io.interface_id = 'S';
			io.cmd_len = 16;
			io.cmdp = cdb;
			io.mx_sb_len = 96;
			io.sbp = reply + 8;
			io.dxfer_direction = SG_DXFER_FROM_DEV;
			io.dxferp = data;
			io.dxfer_len = sizeof(data);
			io.timeout = 30000;
			if (ioctl(dev, SG_IO, &io) < 0)
				reply[3] = 2;
			else if (io.status == 0)
				size = sizeof(data) - (uint32_t)io.resid;
			close(dev);
			reply[3] = reply[3] ? reply[3] : io.status;
			if (size > (uint32_t)(cdb[7] << 8 | cdb[8]))
				size = (uint32_t)(cdb[7] << 8 | cdb[8]);
			reply[4] = (uint8_t)(size >> 24);
			reply[5] = (uint8_t)(size >> 16);
			reply[6] = (uint8_t)(size >> 8);
			reply[7] = (uint8_t)size;
			memcpy(reply + 104, data, size);
			if (send(pfd[i].fd, reply, 104 + size, MSG_NOSIGNAL) < 0) {
				close(pfd[i].fd);
				pfd[i--] = pfd[--n];
			}
		}
	}
}
