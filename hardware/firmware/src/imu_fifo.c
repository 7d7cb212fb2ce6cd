/*
 * The on-board LSM6DS3TR-C's accelerometer at 416 Hz, +-4 g, through its 4 kB FIFO in
 * continuous mode. The pump reads the FIFO every connection interval (15 ms, about 6 samples),
 * so no interrupt line is needed; the FIFO holds 1.6 s should the work queue be late, and an
 * overrun beyond that is reported with OVERFLOW, never hidden.
 *
 * The IMU's ODR comes from its own oscillator: ticks follow the sample counter (section 2.6),
 * and the host fits each stream's clock on its own.
 */
#include <zephyr/drivers/i2c.h>
#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#include <zephyr/sys/byteorder.h>

#include "board.h"

LOG_MODULE_REGISTER(imu_fifo, LOG_LEVEL_INF);

/* Register map (LSM6DS3TR-C datasheet). */
#define WHO_AM_I 0x0F
#define WHO_AM_I_VALUE 0x6A
#define FIFO_CTRL3 0x08
#define FIFO_CTRL5 0x0A
#define CTRL1_XL 0x10
#define CTRL2_G 0x11
#define CTRL3_C 0x12
#define FIFO_STATUS1 0x3A
#define FIFO_DATA_OUT_L 0x3E

#define XL_416HZ_4G 0x68         /* ODR_XL 0110 (416 Hz), FS_XL 10 (+-4 g): 0.122 mg/LSB */
#define BDU_IF_INC 0x44          /* block data update, address auto-increment */
#define FIFO_XL_NO_DECIMATION 0x01
#define FIFO_416HZ_CONTINUOUS 0x36 /* ODR_FIFO 0110 (416 Hz), FIFO_MODE 110 (continuous) */
#define FIFO_BYPASS 0x00          /* empties the FIFO */
#define STATUS2_OVER_RUN 0x40
#define DIFF_FIFO_MASK 0x07FF    /* unread 16-bit words, 11 bits over STATUS1..2 */
#define PATTERN_MASK 0x03FF      /* the next word's place in the x, y, z pattern */

#define BURST_SAMPLES 16u /* 96 bytes per I2C read */

static const struct i2c_dt_spec imu = I2C_DT_SPEC_GET(DT_NODELABEL(lsm6ds3tr_c));
/* A FIFO read failed part-way: an unknown number of samples may have left the FIFO unseen. */
static bool read_failed;

static int write_register(uint8_t reg, uint8_t value)
{
	return i2c_reg_write_byte_dt(&imu, reg, value);
}

int imu_fifo_init(void)
{
	uint8_t id = 0;
	if (!i2c_is_ready_dt(&imu) || i2c_reg_read_byte_dt(&imu, WHO_AM_I, &id) != 0 ||
	    id != WHO_AM_I_VALUE) {
		LOG_ERR("no LSM6DS3TR-C on the I2C bus (WHO_AM_I 0x%02x)", id);
		return -ENODEV;
	}
	return write_register(CTRL3_C, BDU_IF_INC) || write_register(CTRL2_G, 0x00) /* gyro off */
		       ? -EIO
		       : 0;
}

void imu_fifo_start(void)
{
	(void)write_register(FIFO_CTRL5, FIFO_BYPASS);
	(void)write_register(CTRL1_XL, XL_416HZ_4G);
	(void)write_register(FIFO_CTRL3, FIFO_XL_NO_DECIMATION);
	(void)write_register(FIFO_CTRL5, FIFO_416HZ_CONTINUOUS);
}

void imu_fifo_stop(void)
{
	(void)write_register(FIFO_CTRL5, FIFO_BYPASS);
	(void)write_register(CTRL1_XL, 0x00); /* power-down */
}

void imu_fifo_drain(struct tw_stream *acc, uint32_t ticks_now)
{
	uint8_t status[4];
	if (!acc->streaming || i2c_burst_read_dt(&imu, FIFO_STATUS1, status, sizeof status) != 0) {
		return; /* an I2C error: the FIFO keeps the samples for the next pump */
	}
	uint16_t words = sys_get_le16(&status[0]) & DIFF_FIFO_MASK;
	uint16_t pattern = sys_get_le16(&status[2]) & PATTERN_MASK;
	if (pattern != 0u) {
		/* A read stopped inside a sample: drop the rest of it and re-align on x. */
		uint8_t partial[4];
		uint16_t n_words = (uint16_t)(3u - pattern);
		(void)i2c_burst_read_dt(&imu, FIFO_DATA_OUT_L, partial, 2u * n_words);
		words = words > n_words ? (uint16_t)(words - n_words) : 0u;
		tw_stream_resync(acc, ticks_now, words / 3u);
	} else if ((status[1] & STATUS2_OVER_RUN) != 0u || read_failed) {
		tw_stream_resync(acc, ticks_now, words / 3u); /* samples were overwritten or lost */
	}
	read_failed = false;
	for (uint32_t left = words / 3u; left > 0u;) {
		uint8_t bytes[BURST_SAMPLES * 6u];
		int16_t counts[BURST_SAMPLES * 3u];
		uint32_t n = MIN(left, BURST_SAMPLES);
		/* Burst reads of FIFO_DATA_OUT wrap from 0x3F back to 0x3E, as ST's and Linux's
		 * drivers rely on (check on the board). */
		if (i2c_burst_read_dt(&imu, FIFO_DATA_OUT_L, bytes, n * 6u) != 0) {
			read_failed = true;
			return;
		}
		for (uint32_t i = 0; i < n * 3u; i++) {
			counts[i] = (int16_t)sys_get_le16(&bytes[2u * i]);
		}
		tw_stream_push(acc, counts, n);
		left -= n;
	}
}
