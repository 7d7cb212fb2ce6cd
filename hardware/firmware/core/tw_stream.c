/* Ring buffer, framing, seq and ticks of one stream (see tw_stream.h). */
#include "tw_stream.h"

#include <math.h>
#include <string.h>

#include "tw_protocol.h"

void tw_stream_init(struct tw_stream *s, const struct tw_stream_config *config, int16_t *storage,
		    uint32_t capacity)
{
	memset(s, 0, sizeof *s);
	s->config = config;
	s->ring = storage;
	s->capacity = capacity;
	/* ceil(fs x 50 ms): the reference firmware flushes when rest >= 0.05 x fs. */
	s->flush_samples = (config->fs_hz * TW_FLUSH_AFTER_MS + 999u) / 1000u;
}

void tw_stream_start(struct tw_stream *s, uint32_t ticks_now)
{
	if (s->streaming) {
		return;
	}
	/* The sample counter follows the sensor clock, so ticks stay true across STOP/START. */
	s->first_index = tw_samples_due(ticks_now, s->config->fs_hz);
	s->head = 0;
	s->count = 0;
	s->overflowed = false;
	s->streaming = true;
}

void tw_stream_stop(struct tw_stream *s)
{
	s->streaming = false;
}

void tw_stream_push(struct tw_stream *s, const int16_t *samples, uint32_t n)
{
	const unsigned n_ch = s->config->n_channels;
	if (!s->streaming) {
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (s->count == s->capacity) { /* overwrite the oldest: the radio stalled > capacity */
			s->head = (s->head + 1u) % s->capacity;
			s->count--;
			s->first_index++;
			s->overflowed = true;
		}
		uint32_t slot = (s->head + s->count) % s->capacity;
		memcpy(&s->ring[(size_t)slot * n_ch], &samples[(size_t)i * n_ch],
		       n_ch * sizeof(int16_t));
		s->count++;
	}
}

void tw_stream_skip(struct tw_stream *s, uint32_t n)
{
	if (!s->streaming || n == 0u) {
		return;
	}
	/* Samples after the lost ones must not follow the kept ones without a gap: drop what is
	 * kept too, so the next frame starts after the hole and carries OVERFLOW. */
	s->first_index += s->count + (uint64_t)n;
	s->head = 0;
	s->count = 0;
	s->overflowed = true;
}

/* Does any of samples [0, n) of the ring, counted from its oldest, sit on a rail? */
void tw_stream_resync(struct tw_stream *s, uint32_t ticks_now, uint32_t n_waiting)
{
	if (!s->streaming) {
		return;
	}
	uint64_t kept_end = s->first_index + s->count;
	uint64_t due = tw_samples_due(ticks_now, s->config->fs_hz);
	uint64_t first = due > n_waiting ? due - n_waiting : 0u;
	/* The clock only gives an estimate: never before what was already kept. After a tick
	 * counter wrap due restarts near 0, so the counter simply moves on. */
	s->first_index = first > kept_end ? first : kept_end;
	s->head = 0;
	s->count = 0;
	s->overflowed = true;
}

static bool on_rail(const struct tw_stream *s, unsigned n)
{
	const unsigned n_ch = s->config->n_channels;
	for (unsigned i = 0; i < n; i++) {
		const int16_t *values = &s->ring[(size_t)((s->head + i) % s->capacity) * n_ch];
		for (unsigned c = 0; c < n_ch; c++) {
			if (values[c] <= s->config->clip_low || values[c] >= s->config->clip_high) {
				return true;
			}
		}
	}
	return false;
}

size_t tw_stream_build_frame(const struct tw_stream *s, unsigned mtu, uint8_t *out, size_t cap,
			     unsigned *n)
{
	const unsigned n_ch = s->config->n_channels;
	const unsigned n_max = tw_max_samples_per_frame(mtu, n_ch);
	unsigned take;

	*n = 0;
	if (!s->streaming || n_max == 0u) {
		return 0;
	}
	if (s->count >= n_max) {
		take = n_max;
	} else if (s->count > 0u && s->count >= s->flush_samples) {
		take = (unsigned)s->count;
	} else {
		return 0;
	}
	size_t length = TW_FRAME_HEADER_BYTES + 2u * (size_t)take * n_ch;
	if (length > cap) {
		return 0;
	}
	uint8_t flags = s->overflowed ? TW_FLAG_OVERFLOW : 0u;
	if (on_rail(s, take)) {
		flags |= TW_FLAG_CLIPPED;
	}
	tw_encode_frame_header(out, s->config->id, s->seq,
			       tw_ticks_of_sample(s->first_index, s->config->fs_hz), (uint8_t)take,
			       flags);
	uint8_t *sample_bytes = &out[TW_FRAME_HEADER_BYTES];
	for (unsigned i = 0; i < take; i++) { /* straight from the ring, no copy in between */
		const int16_t *values = &s->ring[(size_t)((s->head + i) % s->capacity) * n_ch];
		for (unsigned c = 0; c < n_ch; c++) {
			tw_put_u16le(sample_bytes, (uint16_t)values[c]);
			sample_bytes += 2;
		}
	}
	*n = take;
	return length;
}

void tw_stream_commit(struct tw_stream *s, unsigned n)
{
	if (n == 0u || n > s->count) {
		return;
	}
	s->head = (s->head + n) % s->capacity;
	s->count -= n;
	s->first_index += n;
	s->seq++; /* wraps 0xFFFF -> 0x0000 */
	s->overflowed = false;
}

unsigned tw_stream_fill_pct(const struct tw_stream *s)
{
	if (!s->streaming || s->capacity == 0u) {
		return 0;
	}
	/* The reference firmware computes round(100 * (pending / capacity)) in doubles, and
	 * Python's round() goes half to even: nearbyint() in the default rounding mode does the
	 * same, so GET_STATUS agrees byte for byte. Once per status request, so soft doubles on a
	 * Cortex-M4F cost nothing that matters. */
	double pct = nearbyint(100.0 * ((double)s->count / (double)s->capacity));
	return pct > 100.0 ? 100u : (unsigned)pct;
}
