/*
 * lwip_peer: lwIP 2.1 (Debian's liblwip-dev, raw callback API) serving on a
 * TAP device, as a reference beside Minnow in the benchmarks and tests.
 *
 *   lwip_peer TAP IPV4/PREFIX [MAC] [MAX_SECS]
 *
 * Services on IPV4 (no IPv6):
 *   tcp/12345  echo, everything back until the client half-closes;
 *   tcp/12346  source: reads one line, a decimal byte count N, then sends N
 *              bytes and closes; byte i of the stream is (i % 251), so a
 *              lost, doubled or misplaced segment shows;
 *   udp/12345  echo, every datagram back to its source (from any port, as
 *              lwIP's own udpecho_raw example does).
 * Prints "lwip_peer: ready" on stdout once listening; exits by itself after
 * MAX_SECS (default 900).
 *
 * Options: Debian builds liblwip with its own lwipopts.h (installed in
 * /usr/include/lwip) and this program must be compiled with the same one:
 * NO_SYS=0 (a tcpip thread and a core lock), TCP_MSS 1460, TCP_WND and
 * TCP_SND_BUF 65535 with window scaling, and MEMP_MEM_MALLOC, so PCBs come
 * from malloc and no MEMP_NUM_* limits the number of (half-open)
 * connections. None of it can be changed without rebuilding the library.
 *
 * Frames: this program opens the TAP itself and reads whole frames into a
 * pbuf of their own length (Debian's tapif driver reads into pool pbufs too
 * small for a full-size frame), and writes frames out in its linkoutput.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/tcp.h"
#include "lwip/tcpip.h"
#include "lwip/udp.h"
#include "netif/ethernet.h"

#define ECHO_PORT 12345
#define SOURCE_PORT 12346
#define FRAME_MAX 1514

static int tap_fd = -1;
static struct netif nif;
static u8_t mac[6] = {0x02, 0, 0, 0, 0, 0x02};

static void die(const char *what) {
  fprintf(stderr, "lwip_peer: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* ---- the link: frames to and from the TAP ---- */

/* Runs with the core lock held (tcpip thread or the reader below). */
static err_t link_output(struct netif *n, struct pbuf *p) {
  u8_t frame[FRAME_MAX];
  (void)n;
  if (p->tot_len > sizeof frame) return ERR_BUF;
  u16_t len = pbuf_copy_partial(p, frame, p->tot_len, 0);
  if (write(tap_fd, frame, len) != (ssize_t)len) return ERR_IF;
  return ERR_OK;
}

static err_t link_init(struct netif *n) {
  n->name[0] = 't';
  n->name[1] = 'p';
  n->mtu = 1500;
  n->hwaddr_len = 6;
  memcpy(n->hwaddr, mac, 6);
  n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET |
             NETIF_FLAG_LINK_UP;
  n->output = etharp_output;
  n->linkoutput = link_output;
  return ERR_OK;
}

/* ---- tcp/12345 and tcp/12346 ---- */

/* One connection. Echo: `pending` holds what arrived and is not yet queued
 * for sending; the window is reopened (tcp_recved) only as it is queued, so
 * a client can have at most a window's worth waiting here. Source: `left`
 * bytes still to send, from stream offset `off`. */
struct conn {
  int source;
  struct pbuf *pending;
  int got_fin;
  char line[24];
  int line_len;
  int counting; /* source: the count line has been read */
  unsigned long long left, off;
};

static void conn_free(struct tcp_pcb *pcb, struct conn *c) {
  if (pcb) {
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_sent(pcb, NULL);
    tcp_err(pcb, NULL);
    tcp_poll(pcb, NULL, 0);
  }
  if (c) {
    if (c->pending) pbuf_free(c->pending);
    free(c);
  }
}

/* Closes after what is queued (ERR_ABRT if it had to abort instead: then
 * the PCB is gone, and a callback must return ERR_ABRT). */
static err_t conn_close(struct tcp_pcb *pcb, struct conn *c) {
  conn_free(pcb, c);
  if (tcp_close(pcb) == ERR_OK) return ERR_OK;
  tcp_abort(pcb);
  return ERR_ABRT;
}

/* Queues as much as the send buffer takes; closes when all is done. */
static err_t pump(struct tcp_pcb *pcb, struct conn *c) {
  if (c->source) {
    static u8_t chunk[TCP_MSS * 4];
    while (c->counting && c->left > 0) {
      u16_t room = tcp_sndbuf(pcb);
      u16_t n = sizeof chunk < room ? sizeof chunk : room;
      if (n > c->left) n = (u16_t)c->left;
      if (n == 0) break;
      for (u16_t i = 0; i < n; i++) chunk[i] = (u8_t)((c->off + i) % 251);
      u8_t flags = TCP_WRITE_FLAG_COPY | (n < c->left ? TCP_WRITE_FLAG_MORE : 0);
      if (tcp_write(pcb, chunk, n, flags) != ERR_OK) break;
      c->off += n;
      c->left -= n;
    }
    tcp_output(pcb);
    return c->counting && c->left == 0 ? conn_close(pcb, c) : ERR_OK;
  }
  while (c->pending) {
    struct pbuf *q = c->pending;
    u16_t room = tcp_sndbuf(pcb);
    u16_t n = q->len < room ? q->len : room;
    if (n == 0) break;
    if (tcp_write(pcb, q->payload, n, TCP_WRITE_FLAG_COPY) != ERR_OK) break;
    tcp_recved(pcb, n);
    if (n < q->len) {
      pbuf_remove_header(q, n);
      break;
    }
    c->pending = q->next;
    if (q->next) pbuf_ref(q->next);
    pbuf_free(q);
  }
  tcp_output(pcb);
  return !c->pending && c->got_fin ? conn_close(pcb, c) : ERR_OK;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
  struct conn *c = arg;
  (void)err;
  if (!c) {
    if (p) pbuf_free(p);
    return ERR_OK;
  }
  if (!p) {
    c->got_fin = 1;
    if (c->source && !c->counting) return conn_close(pcb, c); /* no count */
    return c->source ? ERR_OK : pump(pcb, c);
  }
  if (!c->source) {
    if (c->pending) pbuf_cat(c->pending, p);
    else c->pending = p;
    return pump(pcb, c);
  }
  /* Source: the count line; anything after it is read and dropped. */
  tcp_recved(pcb, p->tot_len);
  for (struct pbuf *q = p; q && !c->counting; q = q->next) {
    for (u16_t i = 0; i < q->len && !c->counting; i++) {
      char ch = ((char *)q->payload)[i];
      if (ch == '\n') {
        c->line[c->line_len] = 0;
        c->left = strtoull(c->line, NULL, 10);
        c->counting = 1;
      } else if (c->line_len < (int)sizeof c->line - 1) {
        c->line[c->line_len++] = ch;
      }
    }
  }
  pbuf_free(p);
  return c->counting ? pump(pcb, c) : ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len) {
  (void)len;
  return arg ? pump(pcb, arg) : ERR_OK;
}

/* Every second: retries a write refused for want of queue space. */
static err_t on_poll(void *arg, struct tcp_pcb *pcb) {
  return arg ? pump(pcb, arg) : ERR_OK;
}

/* The connection is gone (reset, or aborted by lwIP): the PCB is freed. */
static void on_err(void *arg, err_t err) {
  (void)err;
  conn_free(NULL, arg);
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err) {
  if (err != ERR_OK || !pcb) return ERR_VAL;
  struct conn *c = calloc(1, sizeof *c);
  if (!c) return ERR_MEM;
  c->source = arg != NULL;
  tcp_arg(pcb, c);
  tcp_recv(pcb, on_recv);
  tcp_sent(pcb, on_sent);
  tcp_err(pcb, on_err);
  tcp_poll(pcb, on_poll, 2);
  return ERR_OK;
}

static void listen_on(u16_t port, void *arg) {
  struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
  if (!pcb || tcp_bind(pcb, IP4_ADDR_ANY, port) != ERR_OK) {
    fprintf(stderr, "lwip_peer: cannot bind tcp/%u\n", port);
    exit(1);
  }
  pcb = tcp_listen(pcb);
  tcp_arg(pcb, arg);
  tcp_accept(pcb, on_accept);
}

/* ---- udp/12345 ---- */

static void on_datagram(void *arg, struct udp_pcb *pcb, struct pbuf *p,
                        const ip_addr_t *addr, u16_t port) {
  (void)arg;
  udp_sendto(pcb, p, addr, port);
  pbuf_free(p);
}

/* ---- main: set up, then read frames from the TAP for ever ---- */

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: lwip_peer TAP IPV4/PREFIX [MAC] [MAX_SECS]\n");
    return 2;
  }
  char addr[32];
  snprintf(addr, sizeof addr, "%s", argv[2]);
  char *slash = strchr(addr, '/');
  int prefix = slash ? atoi(slash + 1) : 24;
  if (slash) *slash = 0;
  if (argc > 3 && sscanf(argv[3], "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1],
                         &mac[2], &mac[3], &mac[4], &mac[5]) != 6) {
    fprintf(stderr, "lwip_peer: bad MAC %s\n", argv[3]);
    return 2;
  }
  alarm(argc > 4 ? atoi(argv[4]) : 900); /* SIGALRM ends it */

  tap_fd = open("/dev/net/tun", O_RDWR);
  if (tap_fd < 0) die("open /dev/net/tun");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  snprintf(ifr.ifr_name, IFNAMSIZ, "%s", argv[1]);
  if (ioctl(tap_fd, TUNSETIFF, &ifr) < 0) die(argv[1]);

  ip4_addr_t ip, mask, gw;
  if (!ip4addr_aton(addr, &ip) || prefix < 1 || prefix > 32) {
    fprintf(stderr, "lwip_peer: bad address %s\n", argv[2]);
    return 2;
  }
  ip4_addr_set_u32(&mask, lwip_htonl(0xffffffffu << (32 - prefix)));
  ip4_addr_set_zero(&gw);

  tcpip_init(NULL, NULL); /* the tcpip thread runs lwIP's timers */
  LOCK_TCPIP_CORE();
  netif_add(&nif, &ip, &mask, &gw, NULL, link_init, netif_input);
  netif_set_default(&nif);
  netif_set_up(&nif);
  listen_on(ECHO_PORT, NULL);
  listen_on(SOURCE_PORT, (void *)1);
  struct udp_pcb *u = udp_new_ip_type(IPADDR_TYPE_V4);
  if (!u || udp_bind(u, IP4_ADDR_ANY, ECHO_PORT) != ERR_OK) {
    fprintf(stderr, "lwip_peer: cannot bind udp/%u\n", ECHO_PORT);
    return 1;
  }
  udp_recv(u, on_datagram, NULL);
  UNLOCK_TCPIP_CORE();
  printf("lwip_peer: ready on %s as %s, lwIP %s\n", argv[1], argv[2], LWIP_VERSION_STRING);
  fflush(stdout);

  for (;;) {
    u8_t frame[2048];
    ssize_t n = read(tap_fd, frame, sizeof frame);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("read from TAP");
    }
    if (n == 0) continue;
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_RAM);
    if (!p) continue; /* out of memory: dropped, as a NIC would */
    pbuf_take(p, frame, (u16_t)n);
    LOCK_TCPIP_CORE();
    if (nif.input(p, &nif) != ERR_OK) pbuf_free(p);
    UNLOCK_TCPIP_CORE();
  }
}
