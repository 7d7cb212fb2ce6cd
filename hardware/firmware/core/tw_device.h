/*
 * The sensor as the host sees it: its streams, the control point (hardware/README.md section
 * 2.2), the Info document, GET_STATUS and the counters behind it. The same decisions as the
 * reference firmware, firmware_sim/diy/firmware.py; the host tests check that they agree byte
 * for byte.
 *
 * Not thread-safe: the board glue calls it from one work queue (see tw_stream.h).
 */
#ifndef TW_DEVICE_H
#define TW_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tw_info.h"
#include "tw_protocol.h"
#include "tw_stream.h"

struct tw_device {
	struct tw_stream *streams; /* streams[i] has stream id i */
	unsigned n_streams;
	uint8_t info[TW_MAX_ATTRIBUTE_BYTES];
	size_t info_length;
	uint32_t info_crc32;
	uint8_t battery_pct;
	uint32_t frames_sent;       /* frames committed (handed to the stack, or dropped unseen
				       because the host had not yet subscribed to Data) */
	uint32_t frames_overflowed; /* frames that carried OVERFLOW */
	uint64_t host_epoch_us;     /* from SET_TIME: labels absolute time, never moves ticks */
	unsigned pending_stream;    /* what tw_device_next_frame built last, for commit */
	unsigned pending_n;
};

/*
 * Builds the Info document from the device and stream configs. The streams must be
 * initialised with tw_stream_init and have ids 0..n_streams-1 in order. Returns TW_INFO_OK or a
 * tw_info_error (the Info document cannot be served: the glue should refuse to advertise).
 */
int tw_device_init(struct tw_device *d, const struct tw_device_config *config,
		   struct tw_stream *streams, unsigned n_streams);

/*
 * Answers one control point write of length bytes that arrived at tick ticks_now. The answer
 * goes into response (TW_MAX_RESPONSE_BYTES) and its length is returned. Send it as a
 * notification only after the ATT write response (profile rule 1).
 */
size_t tw_device_handle_request(struct tw_device *d, const uint8_t *request, size_t length,
				uint32_t ticks_now, uint8_t response[TW_MAX_RESPONSE_BYTES]);

/*
 * The next frame due at ATT MTU mtu, lowest stream id first, built into out (cap bytes):
 * its length, or 0 when no stream has one. tw_device_commit() consumes it once the stack took
 * it; without a commit the same frame is built again next time (profile rule 4).
 */
size_t tw_device_next_frame(struct tw_device *d, unsigned mtu, uint8_t *out, size_t cap);
void tw_device_commit(struct tw_device *d);

/* The link is gone: a sensor stops every stream until it is asked again. */
void tw_device_stop_all(struct tw_device *d);

bool tw_device_is_streaming(const struct tw_device *d);
uint8_t tw_device_streaming_mask(const struct tw_device *d);

/* The GET_STATUS payload (15 bytes, <BBBIII) at tick ticks_now. */
void tw_device_status(const struct tw_device *d, uint32_t ticks_now,
		      uint8_t out[TW_STATUS_REPORT_BYTES]);

#endif /* TW_DEVICE_H */
