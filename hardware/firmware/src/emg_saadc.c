/*
 * The MyoWare RAW output at exactly 2 kHz: TIMER4 compares every 500 us and a PPI channel
 * triggers the SAADC's SAMPLE task, so no interrupt or thread sits in the sampling path. A
 * second PPI channel restarts the SAADC on END, and EasyDMA fills blocks of 20 ms in turn.
 * Each conversion scans two channels: AIN0 (MyoWare RAW) and AIN7 (battery divider).
 *
 * Registers are written through the nRF52840 MDK names (stable across nrfx versions); PPI
 * channels come from nrfx's allocator so the Bluetooth controller's own channels stay free.
 */
#include <zephyr/drivers/clock_control.h>
#include <zephyr/drivers/clock_control/nrf_clock_control.h>
#include <zephyr/drivers/gpio.h>
#include <zephyr/irq.h>
#include <zephyr/kernel.h>
#include <zephyr/sys/atomic.h>

#include <helpers/nrfx_gppi.h>
#include <nrfx.h>

#include "board.h"

#define BLOCK_SAMPLES 40u /* 20 ms at 2 kHz: 50 interrupts per second */
#define N_BLOCKS 8u       /* 160 ms of blocks for a busy work queue */
#define N_INPUTS 2u       /* per conversion: EMG, battery */
#define TIMER_HZ 1000000u /* 16 MHz / 2^4 */
/* The XIAO's battery divider (check: 1 MOhm over 510 kOhm, enabled by pulling P0.14 low), read with the internal 0.6 V
 * reference at gain 1/6, i.e. 3.6 V full scale on 12 bits. */
#define BATTERY_MV(raw) ((uint32_t)(raw) * 3600u / 4096u * 1510u / 510u)

static int16_t blocks[N_BLOCKS][BLOCK_SAMPLES * N_INPUTS];
/* A completed block travels to the work queue with how many blocks were lost before it. The
 * queue leaves two blocks out: the one being filled and the one latched for the next START. */
struct done_block {
	uint8_t index;
	uint8_t lost_before;
};
K_MSGQ_DEFINE(done_blocks, sizeof(struct done_block), N_BLOCKS - 2u, 1);
static uint8_t filling;     /* the block the SAADC writes now (interrupt context only) */
static uint8_t lost_blocks; /* blocks dropped since the last queued one (interrupt only) */
static atomic_t battery_mv;
static struct onoff_client hfxo_client;

static void saadc_isr(const void *arg)
{
	ARG_UNUSED(arg);
	if (NRF_SAADC->EVENTS_END != 0u) { /* handled before STARTED: the order they happened */
		NRF_SAADC->EVENTS_END = 0;
		struct done_block done = {.index = filling, .lost_before = lost_blocks};
		if (k_msgq_put(&done_blocks, &done, K_NO_WAIT) == 0) {
			lost_blocks = 0;
		} else if (lost_blocks < UINT8_MAX) {
			lost_blocks++; /* never silent: the stream's next frame carries OVERFLOW */
		}
		filling = (uint8_t)((filling + 1u) % N_BLOCKS);
	}
	if (NRF_SAADC->EVENTS_STARTED != 0u) {
		NRF_SAADC->EVENTS_STARTED = 0;
		/* RESULT.PTR is double-buffered: set the block after the one now filling. */
		NRF_SAADC->RESULT.PTR = (uint32_t)blocks[(filling + 1u) % N_BLOCKS];
	}
}

static int connect(uint32_t event, uint32_t task)
{
	uint8_t channel;
	if (nrfx_gppi_channel_alloc(&channel) != NRFX_SUCCESS) {
		return -EBUSY;
	}
	nrfx_gppi_channel_endpoints_setup(channel, event, task);
	nrfx_gppi_channels_enable(BIT(channel));
	return 0;
}

int emg_saadc_init(void)
{
	/* P0.14 low connects the battery divider to AIN7 (check on your board revision). */
	int err = gpio_pin_configure(DEVICE_DT_GET(DT_NODELABEL(gpio0)), 14, GPIO_OUTPUT_LOW);
	if (err != 0) {
		return err;
	}
	const uint32_t acquire = SAADC_CH_CONFIG_TACQ_10us << SAADC_CH_CONFIG_TACQ_Pos;
	NRF_SAADC->RESOLUTION = SAADC_RESOLUTION_VAL_12bit;
	/* AIN0: gain 1/4 against VDD/4 spans 0..VDD, ratiometric with the MyoWare's supply. */
	NRF_SAADC->CH[0].PSELP = SAADC_CH_PSELP_PSELP_AnalogInput0;
	NRF_SAADC->CH[0].CONFIG = (SAADC_CH_CONFIG_GAIN_Gain1_4 << SAADC_CH_CONFIG_GAIN_Pos) |
				  (SAADC_CH_CONFIG_REFSEL_VDD1_4 << SAADC_CH_CONFIG_REFSEL_Pos) |
				  acquire;
	NRF_SAADC->CH[1].PSELP = SAADC_CH_PSELP_PSELP_AnalogInput7;
	NRF_SAADC->CH[1].CONFIG = (SAADC_CH_CONFIG_GAIN_Gain1_6 << SAADC_CH_CONFIG_GAIN_Pos) |
				  (SAADC_CH_CONFIG_REFSEL_Internal << SAADC_CH_CONFIG_REFSEL_Pos) |
				  acquire;
	NRF_SAADC->RESULT.MAXCNT = BLOCK_SAMPLES * N_INPUTS;
	NRF_SAADC->INTENSET = SAADC_INTENSET_END_Msk | SAADC_INTENSET_STARTED_Msk;
	IRQ_CONNECT(SAADC_IRQn, 2, saadc_isr, NULL, 0);
	irq_enable(SAADC_IRQn);

	NRF_TIMER4->MODE = TIMER_MODE_MODE_Timer;
	NRF_TIMER4->BITMODE = TIMER_BITMODE_BITMODE_32Bit;
	NRF_TIMER4->PRESCALER = 4;
	NRF_TIMER4->CC[0] = TIMER_HZ / EMG_FS_HZ;
	NRF_TIMER4->SHORTS = TIMER_SHORTS_COMPARE0_CLEAR_Msk;

	err = connect((uint32_t)&NRF_TIMER4->EVENTS_COMPARE[0],
			  (uint32_t)&NRF_SAADC->TASKS_SAMPLE);
	return err != 0 ? err
			: connect((uint32_t)&NRF_SAADC->EVENTS_END, (uint32_t)&NRF_SAADC->TASKS_START);
}

void emg_saadc_start(void)
{
	/* The TIMER counts the HF clock: run it from the crystal, not the +-1.5 % RC oscillator,
	 * so that 2000 samples are one second. */
	sys_notify_init_spinwait(&hfxo_client.notify);
	(void)onoff_request(z_nrf_clock_control_get_onoff(CLOCK_CONTROL_NRF_SUBSYS_HF),
			    &hfxo_client);
	k_msgq_purge(&done_blocks);
	filling = 0;
	lost_blocks = 0;
	NRF_SAADC->ENABLE = SAADC_ENABLE_ENABLE_Enabled;
	NRF_SAADC->RESULT.PTR = (uint32_t)blocks[0];
	NRF_SAADC->TASKS_START = 1; /* STARTED: the interrupt queues block 1 */
	NRF_TIMER4->TASKS_CLEAR = 1;
	NRF_TIMER4->TASKS_START = 1;
}

void emg_saadc_stop(void)
{
	NRF_TIMER4->TASKS_STOP = 1;
	NRF_SAADC->TASKS_STOP = 1;
	while (NRF_SAADC->EVENTS_STOPPED == 0u) {
	}
	NRF_SAADC->EVENTS_STOPPED = 0;
	NRF_SAADC->ENABLE = SAADC_ENABLE_ENABLE_Disabled;
	(void)onoff_release(z_nrf_clock_control_get_onoff(CLOCK_CONTROL_NRF_SUBSYS_HF));
}

void emg_saadc_drain(struct tw_stream *emg)
{
	struct done_block done;
	int16_t counts[BLOCK_SAMPLES];
	while (k_msgq_get(&done_blocks, &done, K_NO_WAIT) == 0) {
		if (done.lost_before > 0u) {
			tw_stream_skip(emg, (uint32_t)done.lost_before * BLOCK_SAMPLES);
		}
		const int16_t *raw = blocks[done.index];
		uint32_t battery_sum = 0;
		for (unsigned i = 0; i < BLOCK_SAMPLES; i++) {
			/* The SAADC can read a little below 0 near ground: clamp to its 12-bit span,
			 * then centre, so a rail reading is exactly EMG_COUNT_MIN or _MAX. */
			int32_t value = CLAMP(raw[N_INPUTS * i], 0, 4095) - 2048;
			counts[i] = (int16_t)value;
			battery_sum += (uint32_t)CLAMP(raw[N_INPUTS * i + 1u], 0, 4095);
		}
		tw_stream_push(emg, counts, BLOCK_SAMPLES);
		atomic_set(&battery_mv, (atomic_val_t)BATTERY_MV(battery_sum / BLOCK_SAMPLES));
	}
}

void emg_saadc_measure_battery(void)
{
	int16_t result[N_INPUTS];
	irq_disable(SAADC_IRQn); /* a one-off conversion is not a block for the stream */
	NRF_SAADC->ENABLE = SAADC_ENABLE_ENABLE_Enabled;
	NRF_SAADC->RESULT.PTR = (uint32_t)result;
	NRF_SAADC->RESULT.MAXCNT = N_INPUTS;
	NRF_SAADC->TASKS_START = 1;
	while (NRF_SAADC->EVENTS_STARTED == 0u) {
	}
	NRF_SAADC->TASKS_SAMPLE = 1;
	while (NRF_SAADC->EVENTS_END == 0u) {
	}
	NRF_SAADC->TASKS_STOP = 1;
	while (NRF_SAADC->EVENTS_STOPPED == 0u) {
	}
	NRF_SAADC->EVENTS_STARTED = 0;
	NRF_SAADC->EVENTS_END = 0;
	NRF_SAADC->EVENTS_STOPPED = 0;
	NRF_SAADC->ENABLE = SAADC_ENABLE_ENABLE_Disabled;
	NRF_SAADC->RESULT.MAXCNT = BLOCK_SAMPLES * N_INPUTS;
	NVIC_ClearPendingIRQ(SAADC_IRQn);
	irq_enable(SAADC_IRQn);
	atomic_set(&battery_mv, (atomic_val_t)BATTERY_MV(CLAMP(result[1], 0, 4095)));
}

uint32_t emg_saadc_battery_mv(void)
{
	return (uint32_t)atomic_get(&battery_mv);
}
