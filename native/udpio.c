// Batched UDP I/O for tandem's DNS listeners (Linux): recvmmsg/sendmmsg on a bound dgram socket's descriptor,
// polled in Node's own event loop. Node 20's dgram makes one recvmsg and one sendmsg system call per datagram,
// one JavaScript call per datagram each way; here a readable socket gives up to SLOTS datagrams to one call, and
// the answers of a batch go out in one sendmmsg.
//
// The JavaScript side (src/server/udpio.ts) owns every buffer (ArrayBuffers, held here by references so they
// neither move nor go away):
//   in      SLOTS * SLOT bytes: datagram i at i * SLOT
//   meta    SLOTS * META int32: per datagram length, peer port, family (4 or 6), address (4 int32, network
//           byte order), IPv6 scope id (a link-local peer's interface), 2 unused (a slot holds the largest
//           UDP payload, so nothing is truncated)
//   out     answers, anywhere in it
//   outMeta per answer: offset, length, port, family, address (4 int32), scope id, 0
// Built by scripts/build-native.mjs with the C compiler and Node's own headers; without it the listeners use dgram.
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <node_api.h>
#include <uv.h>

#define SLOTS 32
#define SLOT 65536 /* the largest UDP payload (65,507 bytes over IPv4) fits */
#define META 10
#define ROUNDS 4 /* batches per readable event, then the loop's other work gets its turn */

typedef struct {
  napi_env env;
  uv_poll_t poll;
  int fd;
  int open;      /* polling; cleared by close() */
  int finalized; /* the JavaScript object is gone: free at the handle's close */
  int closed;    /* the poll handle is closed: free at finalization */
  napi_ref cb, refs[4];
  napi_async_context ctx;
  uint8_t *in, *out;
  int32_t *meta, *outmeta;
  size_t outlen, outslots;
  double batches, received, sent;
  struct mmsghdr msgs[SLOTS];
  struct iovec iov[SLOTS];
  struct sockaddr_storage addr[SLOTS];
} io_t;

static void put_addr(int32_t *m, const struct sockaddr_storage *sa) {
  memset(m, 0, 7 * sizeof *m); /* port, family, address, scope */
  if (sa->ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
    m[0] = ntohs(a->sin_port);
    m[1] = 4;
    memcpy(&m[2], &a->sin_addr, 4);
  } else if (sa->ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
    m[0] = ntohs(a->sin6_port);
    m[1] = 6;
    memcpy(&m[2], &a->sin6_addr, 16);
    m[6] = (int32_t)a->sin6_scope_id;
  }
}

/* m: port, family, address, scope id. 0: not an address. */
static socklen_t get_addr(const int32_t *m, struct sockaddr_storage *sa) {
  memset(sa, 0, sizeof *sa);
  if (m[0] < 0 || m[0] > 65535) return 0;
  if (m[1] == 4) {
    struct sockaddr_in *a = (struct sockaddr_in *)sa;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)m[0]);
    memcpy(&a->sin_addr, &m[2], 4);
    return sizeof *a;
  }
  if (m[1] == 6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)sa;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)m[0]);
    memcpy(&a->sin6_addr, &m[2], 16);
    a->sin6_scope_id = (uint32_t)m[6];
    return sizeof *a;
  }
  return 0;
}

static void on_readable(uv_poll_t *p, int status, int events) {
  (void)events;
  io_t *io = (io_t *)p->data;
  if (!io->open) return;
  if (status < 0) {
    /* A socket error (libuv stops the handle on POLLERR): clear it and poll again, so the listener never goes deaf. */
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    uv_poll_start(&io->poll, UV_READABLE, on_readable);
    return;
  }
  napi_env env = io->env;
  for (int round = 0; round < ROUNDS && io->open; round++) {
    for (int i = 0; i < SLOTS; i++) {
      io->iov[i].iov_base = io->in + (size_t)i * SLOT;
      io->iov[i].iov_len = SLOT;
      memset(&io->msgs[i], 0, sizeof io->msgs[i]);
      io->msgs[i].msg_hdr.msg_iov = &io->iov[i];
      io->msgs[i].msg_hdr.msg_iovlen = 1;
      io->msgs[i].msg_hdr.msg_name = &io->addr[i];
      io->msgs[i].msg_hdr.msg_namelen = sizeof io->addr[i];
    }
    int n = recvmmsg(io->fd, io->msgs, SLOTS, MSG_DONTWAIT, NULL);
    if (n <= 0) return; /* EAGAIN, or an error the next datagram does not have */
    for (int i = 0; i < n; i++) {
      int32_t *m = io->meta + i * META;
      m[0] = (int32_t)io->msgs[i].msg_len;
      put_addr(m + 1, &io->addr[i]);
    }
    io->batches += 1;
    io->received += n;
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    napi_value cb, recv, argv[1], result;
    napi_get_reference_value(env, io->cb, &cb);
    napi_get_global(env, &recv);
    napi_create_int32(env, n, &argv[0]);
    /* As Node calls a 'message' listener: in an async context, ticks and microtasks run after it. */
    if (napi_make_callback(env, io->ctx, recv, cb, 1, argv, &result) == napi_pending_exception) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
    }
    napi_close_handle_scope(env, scope);
    if (n < SLOTS) return;
  }
}

static io_t *unwrap(napi_env env, napi_value v) {
  void *p = NULL;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external) return NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok) return NULL;
  return (io_t *)p;
}

static napi_value fail(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static void *buffer_of(napi_env env, napi_value v, size_t *len) {
  void *data = NULL;
  bool yes = false;
  if (napi_is_arraybuffer(env, v, &yes) != napi_ok || !yes) return NULL;
  if (napi_get_arraybuffer_info(env, v, &data, len) != napi_ok) return NULL;
  return data;
}

static void on_closed(uv_handle_t *h) {
  io_t *io = (io_t *)h->data;
  close(io->fd);
  io->closed = 1;
  if (io->finalized) free(io);
}

/* Stops polling and lets go of the callback and buffers; the handle closes on the loop's next turn. */
static void stop(napi_env env, io_t *io) {
  if (!io->open) return;
  io->open = 0;
  uv_poll_stop(&io->poll);
  napi_delete_reference(env, io->cb);
  for (int i = 0; i < 4; i++) napi_delete_reference(env, io->refs[i]);
  napi_async_destroy(env, io->ctx);
  uv_close((uv_handle_t *)&io->poll, on_closed);
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  io_t *io = (io_t *)data;
  io->finalized = 1;
  if (io->open) stop(env, io);
  else if (io->closed) free(io);
}

/* open(fd, onBatch, in, meta, out, outMeta) -> handle. The descriptor is duplicated: the caller's stays its own. */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 6) return fail(env, "open(fd, onBatch, in, meta, out, outMeta)");
  int32_t fd;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) return fail(env, "open: fd must be a descriptor");
  napi_valuetype t;
  if (napi_typeof(env, argv[1], &t) != napi_ok || t != napi_function) return fail(env, "open: onBatch must be a function");
  size_t inlen = 0, metalen = 0, outlen = 0, outmetalen = 0;
  uint8_t *in = buffer_of(env, argv[2], &inlen);
  int32_t *meta = buffer_of(env, argv[3], &metalen);
  uint8_t *out = buffer_of(env, argv[4], &outlen);
  int32_t *outmeta = buffer_of(env, argv[5], &outmetalen);
  if (!in || inlen < (size_t)SLOTS * SLOT || !meta || metalen < SLOTS * META * sizeof(int32_t) || !out || !outmeta || outmetalen < META * sizeof(int32_t))
    return fail(env, "open: buffers missing or too small");
  int sotype = 0;
  socklen_t sl = sizeof sotype;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &sotype, &sl) != 0 || sotype != SOCK_DGRAM) return fail(env, "open: fd is not a datagram socket");
  int dfd = dup(fd);
  if (dfd < 0) return fail(env, "open: dup failed");
  io_t *io = calloc(1, sizeof *io);
  if (!io) {
    close(dfd);
    return fail(env, "open: out of memory");
  }
  uv_loop_t *loop = NULL;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, &io->poll, dfd) != 0) {
    close(dfd);
    free(io);
    return fail(env, "open: cannot poll the descriptor");
  }
  io->env = env;
  io->fd = dfd;
  io->in = in;
  io->meta = meta;
  io->out = out;
  io->outlen = outlen;
  io->outmeta = outmeta;
  io->outslots = outmetalen / (META * sizeof(int32_t));
  io->poll.data = io;
  napi_create_reference(env, argv[1], 1, &io->cb);
  for (int i = 0; i < 4; i++) napi_create_reference(env, argv[2 + i], 1, &io->refs[i]);
  napi_value name, resource;
  napi_create_string_utf8(env, "tandem:udpio", NAPI_AUTO_LENGTH, &name);
  napi_create_object(env, &resource);
  napi_async_init(env, resource, name, &io->ctx);
  io->open = 1;
  uv_poll_start(&io->poll, UV_READABLE, on_readable);
  napi_value handle;
  napi_create_external(env, io, finalize, NULL, &handle);
  return handle;
}

/*
 * send(handle, count) -> the number of answers handed to the kernel, in order. Stops at the first the kernel
 * refuses (EAGAIN: the socket's buffer is full; or an error of that answer): the caller sends the rest its
 * own way (dgram queues them). An entry out of range is an error.
 */
static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t count;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return fail(env, "send(handle, count)");
  io_t *io = unwrap(env, argv[0]);
  if (!io || !io->open) return fail(env, "send: closed");
  if (napi_get_value_int32(env, argv[1], &count) != napi_ok || count < 0 || (size_t)count > io->outslots) return fail(env, "send: count out of range");
  for (int i = 0; i < count; i++) {
    const int32_t *m = io->outmeta + i * META;
    if (m[0] < 0 || m[1] < 0 || (size_t)m[0] + (size_t)m[1] > io->outlen) return fail(env, "send: answer out of range");
  }
  int sent = 0;
  while (sent < count) {
    int k = 0;
    for (; k < SLOTS && sent + k < count; k++) {
      const int32_t *m = io->outmeta + (sent + k) * META;
      socklen_t alen = get_addr(m + 2, &io->addr[k]);
      if (alen == 0) break;
      io->iov[k].iov_base = io->out + m[0];
      io->iov[k].iov_len = (size_t)m[1];
      memset(&io->msgs[k], 0, sizeof io->msgs[k]);
      io->msgs[k].msg_hdr.msg_iov = &io->iov[k];
      io->msgs[k].msg_hdr.msg_iovlen = 1;
      io->msgs[k].msg_hdr.msg_name = &io->addr[k];
      io->msgs[k].msg_hdr.msg_namelen = alen;
    }
    if (k == 0) break; /* not an address: the caller's way */
    int r = sendmmsg(io->fd, io->msgs, k, MSG_DONTWAIT);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    sent += r;
    if (r < k) break;
  }
  io->sent += sent;
  napi_value v;
  napi_create_int32(env, sent, &v);
  return v;
}

/* The handle of a one-argument call (close, stats), or NULL with an error thrown. */
static io_t *handle_arg(napi_env env, napi_callback_info info, const char *call) {
  size_t argc = 1;
  napi_value argv[1];
  io_t *io = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc >= 1) io = unwrap(env, argv[0]);
  if (!io) napi_throw_error(env, NULL, call);
  return io;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  io_t *io = handle_arg(env, info, "close(handle): not a handle");
  if (io) stop(env, io);
  return NULL;
}

/* stats(handle) -> [batches, datagrams received, answers sent] */
static napi_value js_stats(napi_env env, napi_callback_info info) {
  io_t *io = handle_arg(env, info, "stats(handle): not a handle");
  if (!io) return NULL;
  napi_value arr, v;
  napi_create_array_with_length(env, 3, &arr);
  double vals[3] = { io->batches, io->received, io->sent };
  for (uint32_t i = 0; i < 3; i++) {
    napi_create_double(env, vals[i], &v);
    napi_set_element(env, arr, i, v);
  }
  return arr;
}

/* ifname(index) -> the interface's name (as Node writes a link-local peer's zone), or undefined */
static napi_value js_ifname(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], v;
  uint32_t index;
  char name[IF_NAMESIZE];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_uint32(env, argv[0], &index) != napi_ok) return fail(env, "ifname(index)");
  if (index == 0 || !if_indextoname(index, name)) {
    napi_get_undefined(env, &v);
    return v;
  }
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &v);
  return v;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor d[] = {
    { "open", 0, js_open, 0, 0, 0, napi_default, 0 },
    { "send", 0, js_send, 0, 0, 0, napi_default, 0 },
    { "close", 0, js_close, 0, 0, 0, napi_default, 0 },
    { "stats", 0, js_stats, 0, 0, 0, napi_default, 0 },
    { "ifname", 0, js_ifname, 0, 0, 0, napi_default, 0 },
  };
  napi_define_properties(env, exports, 5, d);
  const char *names[3] = { "slots", "slot", "meta" };
  int vals[3] = { SLOTS, SLOT, META };
  for (int i = 0; i < 3; i++) {
    napi_value v;
    napi_create_int32(env, vals[i], &v);
    napi_set_named_property(env, exports, names[i], v);
  }
  return exports;
}

NAPI_MODULE(udpio, init)
