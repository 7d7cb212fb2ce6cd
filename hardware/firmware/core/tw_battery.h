/* Battery percent from the cell voltage, for Battery Level, GET_STATUS and the advert. */
#ifndef TW_BATTERY_H
#define TW_BATTERY_H

#include <stdint.h>

/*
 * A single-cell LiPo's charge, 0..100 %, from its voltage in mV, interpolated on a typical
 * open-circuit discharge curve (check against the cell you fit: curves differ by maker, age and
 * load, so treat the figure as a guide to when to charge, not a fuel gauge).
 */
uint8_t tw_battery_pct(uint32_t cell_mv);

#endif /* TW_BATTERY_H */
