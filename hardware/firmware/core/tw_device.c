/* The control point, status and frame scheduling of the sensor (see tw_device.h). */
#include "tw_device.h"

#include <string.h>

int tw_device_init(struct tw_device *d, const struct tw_device_config *config,
		   struct tw_stream *streams, unsigned n_streams)
{
	memset(d, 0, sizeof *d);
	d->streams = streams;
	d->n_streams = n_streams;
	d->battery_pct = 100;
	if (n_streams > TW_MAX_STREAMS) {
		return TW_INFO_BAD_STREAM;
	}
	/* The Info document lists the stream configs, which must sit in one array for it. */
	struct tw_stream_config configs[TW_MAX_STREAMS];
	for (unsigned i = 0; i < n_streams; i++) {
		if (streams[i].config->id != i) {
			return TW_INFO_BAD_STREAM;
		}
		configs[i] = *streams[i].config;
	}
	int error = tw_info_build(d->info, &d->info_length, config, configs, n_streams);
	if (error == TW_INFO_OK) {
		d->info_crc32 = tw_crc32(d->info, d->info_length);
	}
	return error;
}

bool tw_device_is_streaming(const struct tw_device *d)
{
	return tw_device_streaming_mask(d) != 0u;
}

uint8_t tw_device_streaming_mask(const struct tw_device *d)
{
	uint8_t mask = 0;
	for (unsigned i = 0; i < d->n_streams; i++) {
		if (d->streams[i].streaming) {
			mask |= (uint8_t)(1u << i);
		}
	}
	return mask;
}

void tw_device_stop_all(struct tw_device *d)
{
	for (unsigned i = 0; i < d->n_streams; i++) {
		tw_stream_stop(&d->streams[i]);
	}
}

void tw_device_status(const struct tw_device *d, uint32_t ticks_now,
		      uint8_t out[TW_STATUS_REPORT_BYTES])
{
	unsigned fill = 0;
	for (unsigned i = 0; i < d->n_streams; i++) {
		unsigned pct = tw_stream_fill_pct(&d->streams[i]);
		fill = pct > fill ? pct : fill; /* the fullest ring buffer */
	}
	out[0] = d->battery_pct;
	out[1] = tw_device_streaming_mask(d);
	out[2] = (uint8_t)fill;
	tw_put_u32le(&out[3], d->frames_sent);
	tw_put_u32le(&out[7], d->frames_overflowed);
	tw_put_u32le(&out[11], ticks_now);
}

/* START or STOP with a one-byte stream mask: 0, or a bit beyond the streams, is refused. */
static uint8_t start_or_stop(struct tw_device *d, bool start, const uint8_t *args, size_t n_args,
			     uint32_t ticks_now)
{
	if (n_args != 1u) {
		return TW_STATUS_INVALID_LENGTH;
	}
	uint8_t mask = args[0];
	if (mask == 0u || (mask >> d->n_streams) != 0u) {
		return TW_STATUS_INVALID_PARAMETER;
	}
	for (unsigned i = 0; i < d->n_streams; i++) {
		if ((mask & (1u << i)) == 0u) {
			continue;
		}
		if (start) {
			tw_stream_start(&d->streams[i], ticks_now);
		} else {
			tw_stream_stop(&d->streams[i]);
		}
	}
	return TW_STATUS_OK;
}

size_t tw_device_handle_request(struct tw_device *d, const uint8_t *request, size_t length,
				uint32_t ticks_now, uint8_t response[TW_MAX_RESPONSE_BYTES])
{
	uint8_t payload[TW_STATUS_REPORT_BYTES];
	size_t n_payload = 0;
	uint8_t status = TW_STATUS_OK;

	if (length < 2u) { /* no token to echo: answer with token 0 */
		return tw_encode_response(response, TW_MAX_RESPONSE_BYTES,
					  length > 0u ? request[0] : 0u, 0u,
					  TW_STATUS_INVALID_LENGTH, NULL, 0);
	}
	const uint8_t opcode = request[0];
	const uint8_t token = request[1];
	const uint8_t *args = &request[2];
	const size_t n_args = length - 2u;

	switch (opcode) {
	case TW_OP_GET_INFO:
		payload[0] = TW_PROTOCOL_VERSION;
		tw_put_u16le(&payload[1], (uint16_t)d->info_length);
		tw_put_u32le(&payload[3], d->info_crc32);
		n_payload = TW_GET_INFO_RESULT_BYTES;
		break;
	case TW_OP_START:
	case TW_OP_STOP:
		status = start_or_stop(d, opcode == TW_OP_START, args, n_args, ticks_now);
		break;
	case TW_OP_SET_TIME:
		if (n_args != TW_SET_TIME_ARGS_BYTES) {
			status = TW_STATUS_INVALID_LENGTH;
			break;
		}
		d->host_epoch_us = tw_get_u64le(args);
		tw_put_u32le(payload, ticks_now);
		n_payload = TW_SET_TIME_RESULT_BYTES;
		break;
	case TW_OP_GET_STATUS:
		tw_device_status(d, ticks_now, payload);
		n_payload = TW_STATUS_REPORT_BYTES;
		break;
	default:
		status = TW_STATUS_UNKNOWN_OPCODE;
	}
	return tw_encode_response(response, TW_MAX_RESPONSE_BYTES, opcode, token, status, payload,
				  status == TW_STATUS_OK ? n_payload : 0u);
}

size_t tw_device_next_frame(struct tw_device *d, unsigned mtu, uint8_t *out, size_t cap)
{
	for (unsigned i = 0; i < d->n_streams; i++) {
		unsigned n = 0;
		size_t length = tw_stream_build_frame(&d->streams[i], mtu, out, cap, &n);
		if (length > 0u) {
			d->pending_stream = i;
			d->pending_n = n;
			return length;
		}
	}
	d->pending_n = 0;
	return 0;
}

void tw_device_commit(struct tw_device *d)
{
	if (d->pending_n == 0u) {
		return;
	}
	struct tw_stream *s = &d->streams[d->pending_stream];
	if (s->overflowed) {
		d->frames_overflowed++;
	}
	tw_stream_commit(s, d->pending_n);
	d->frames_sent++;
	d->pending_n = 0;
}
