/*
 * One stream of samples on its way to the radio: a ring buffer, the sample counter that gives
 * each frame its ticks, the per-stream seq, and OVERFLOW when the ring overwrote samples
 * (hardware/README.md sections 2.3, 2.6 and 2.9).
 *
 * Not thread-safe: the board glue calls every tw_* function from one work queue, so a push can
 * never land between building a frame and committing it.
 */
#ifndef TW_STREAM_H
#define TW_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tw_info.h"

/* A partial frame goes out once it holds this many seconds of samples: 50 ms, as in the
 * reference firmware (firmware_sim/diy/firmware.py FLUSH_AFTER_S). */
#define TW_FLUSH_AFTER_MS 50u

struct tw_stream {
	const struct tw_stream_config *config;
	int16_t *ring;          /* capacity x n_channels counts, sample-major */
	uint32_t capacity;      /* samples the ring holds (the profile asks for >= 2 s) */
	uint32_t head;          /* ring slot of the oldest sample kept */
	uint32_t count;         /* samples kept, not yet framed */
	uint64_t first_index;   /* sample index of the oldest sample kept */
	uint32_t flush_samples; /* a partial frame needs at least this many samples */
	uint16_t seq;           /* seq of the next frame; +1 per frame built and committed */
	bool streaming;
	bool overflowed;        /* samples were overwritten since the last frame */
};

/* storage holds capacity x config->n_channels int16 values; it stays the caller's. */
void tw_stream_init(struct tw_stream *s, const struct tw_stream_config *config, int16_t *storage,
		    uint32_t capacity);

/* Start at tick ticks_now: samples taken before it are not kept. Already streaming: no change. */
void tw_stream_start(struct tw_stream *s, uint32_t ticks_now);
void tw_stream_stop(struct tw_stream *s);

/* n samples (n x n_channels counts, sample-major) just taken; ignored while stopped. A full
 * ring overwrites its oldest samples, and the next frame carries OVERFLOW. */
void tw_stream_push(struct tw_stream *s, const int16_t *samples, uint32_t n);

/* n samples were taken but lost before reaching the ring (a DMA buffer the glue could not
 * hand over): the sample counter moves on and the next frame carries OVERFLOW. */
void tw_stream_skip(struct tw_stream *s, uint32_t n);

/*
 * An unknown number of samples was lost (the IMU's FIFO overran): re-anchor the sample counter
 * on the sensor clock, so that the n_waiting samples about to be pushed end at tick ticks_now.
 * Kept samples are dropped and the next frame carries OVERFLOW; ticks never go backwards.
 */
void tw_stream_resync(struct tw_stream *s, uint32_t ticks_now, uint32_t n_waiting);

/*
 * Builds the next frame that is due for ATT MTU mtu into out, without consuming it: a full
 * frame of tw_max_samples_per_frame() samples, or the remainder once it spans 50 ms. Returns
 * the frame's length (0: none due) and its sample count in *n. Call tw_stream_commit(n) once the
 * stack took the frame; if it did not (queue full), the same samples go out next time.
 */
size_t tw_stream_build_frame(const struct tw_stream *s, unsigned mtu, uint8_t *out, size_t cap,
			     unsigned *n);
void tw_stream_commit(struct tw_stream *s, unsigned n);

/* How full the ring is, 0..100, rounded as the reference firmware rounds (see tw_stream.c). */
unsigned tw_stream_fill_pct(const struct tw_stream *s);

#endif /* TW_STREAM_H */
