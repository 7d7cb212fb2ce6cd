/*
 * What the board glue's parts tell each other. Everything that touches the protocol core runs
 * on the system work queue (the core is not thread-safe); interrupts and Bluetooth callbacks
 * only hand data over and submit work.
 */
#ifndef TW_BOARD_H
#define TW_BOARD_H

#include <stdbool.h>
#include <stdint.h>

#include <zephyr/bluetooth/conn.h>

#include "tw_device.h"

#define EMG_FS_HZ 2000u
#define ACC_FS_HZ 416u
/* The MyoWare RAW output on a 12-bit SAADC, centred: counts -2048..2047 are the ADC's range. */
#define EMG_COUNT_MIN (-2048)
#define EMG_COUNT_MAX 2047

/* The sensor clock: Zephyr's system clock on the nRF52 is the 32.768 kHz RTC, extended to
 * 32 bits and beyond, so its cycle counter is the profile's tick counter. */
uint32_t board_ticks_now(void);

/* main.c: the device, the connected central (NULL when none), and work for the work queue. */
struct tw_device *board_device(void);
struct bt_conn *board_link(void);
void board_follow_streaming(void); /* start or stop the ADC and IMU as the streams require */

/* emg_saadc.c: the MyoWare at 2 kHz and the battery, sampled by TIMER4 through PPI. */
int emg_saadc_init(void);
void emg_saadc_start(void);
void emg_saadc_stop(void);
void emg_saadc_drain(struct tw_stream *emg); /* push completed DMA blocks */
void emg_saadc_measure_battery(void);        /* one blocking conversion, only while stopped */
uint32_t emg_saadc_battery_mv(void);         /* the latest battery voltage, 0 before any */

/* imu_fifo.c: the LSM6DS3TR-C accelerometer at 416 Hz through its FIFO. */
int imu_fifo_init(void);
void imu_fifo_start(void);
void imu_fifo_stop(void);
void imu_fifo_drain(struct tw_stream *acc, uint32_t ticks_now);

/* gatt.c: the TwitchWatch service. */
void gatt_send_frames(struct bt_conn *link, struct tw_device *device);

/* advertising.c */
int advertising_init(const char *site);
void advertising_start(void);
void advertising_update(uint8_t battery_pct, bool streaming);

#endif /* TW_BOARD_H */
