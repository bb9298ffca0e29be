/* The guest agent's protocol, shared by the agent (vm/agent/, linked
 * statically into the guest's initramfs) and the host's client
 * (vm/agent-client.c). Includes nothing of ours.
 *
 * One byte stream over a virtio-serial port ("vserver.agent" in the guest,
 * a unix socket on the host), cut into frames:
 *     u8 type, u8 tag[3], u32 len (little endian), len bytes of payload
 * The tag names the exec: the host picks a random non-zero one for its EXEC
 * and puts it on each frame it sends; the agent puts the tag of the EXEC on
 * every frame of that exec's reply, and ignores STDIN, EOF and SIGNAL of
 * another tag. The port outlives a host (the agent waits a moment before it
 * believes a hang-up, see serve.c), so the next host can read the end of its
 * predecessor's exec, STARTED included: it drops every frame not of its tag.
 * (Tag 0: a host or an agent older than tags; a host believes a reply of tag
 * 0, so a guest booted before the upgrade still answers.)
 * A connection carries one exec:
 *   host -> guest  EXEC   u32 argc, u32 envc, then argc args, envc "K=V"
 *                         and the cwd, each NUL-terminated; then (optional:
 *                         root without them) u32 uid, u32 gid, u32 ngids
 *                         and ngids u32 additional gids
 *                  STDIN  bytes for the process's stdin
 *                  EOF    its stdin is closed
 *                  SIGNAL u32 signal number, to the process group
 *   guest -> host  STARTED u32 pid of the process (0: it could not be
 *                         started; a STDERR line and EXIT follow), sent at
 *                         once for each EXEC: the host waits for it only a
 *                         bounded time, and drops what comes before it and
 *                         what has another tag (the end of an exec whose
 *                         host went away)
 *                  STDOUT, STDERR  bytes
 *                  EXIT   i32 exit status (128+N when killed by signal N);
 *                         always last
 * The host disconnecting ends the exec (the guest kills what is left, once
 * the port has stayed hung up for a moment: see serve.c). */
#ifndef VS_AGENT_PROTO_H
#define VS_AGENT_PROTO_H

#include <stdint.h>
#include <string.h>

#define AGENT_PORT_NAME "vserver.agent"
#define AGENT_MAX_PAYLOAD (64u * 1024)
#define AGENT_MAX_GIDS 256

enum agent_type {
	AGENT_EXEC = 'X',
	AGENT_STDIN = 'I',
	AGENT_EOF = 'E',
	AGENT_SIGNAL = 'K',
	AGENT_STARTED = 'S',
	AGENT_STDOUT = 'O',
	AGENT_STDERR = 'R',
	AGENT_EXIT = 'Z',
};

struct agent_hdr {
	uint8_t type;
	uint32_t tag;          /* 24 bits: the frame's bytes 1-3 */
	uint32_t len;
};

#define AGENT_TAG_MASK 0xffffffu

/* the 8 bytes of a frame's header */
static inline void agent_put_hdr(unsigned char *h, uint8_t type, uint32_t tag, uint32_t len)
{
	h[0] = type;
	h[1] = (unsigned char)tag;
	h[2] = (unsigned char)(tag >> 8);
	h[3] = (unsigned char)(tag >> 16);
	h[4] = (unsigned char)len;
	h[5] = (unsigned char)(len >> 8);
	h[6] = (unsigned char)(len >> 16);
	h[7] = (unsigned char)(len >> 24);
}

static inline uint32_t agent_hdr_tag(const unsigned char *h)
{
	return (uint32_t)h[1] | (uint32_t)h[2] << 8 | (uint32_t)h[3] << 16;
}

/* The line the agent prints on the console (after "vserver-agent: ") when the server's command ends,
 * which the host's monitor reads back as the server's exit status. */
#define AGENT_EXIT_MARK "workload exited with status "

static inline void agent_put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static inline uint32_t agent_get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif
