/* LiPo voltage to charge percent (see tw_battery.h). */
#include "tw_battery.h"

struct curve_point {
	uint16_t mv;
	uint8_t pct;
};

/* Typical single-cell LiPo open-circuit voltages, highest first. */
static const struct curve_point curve[] = {
	{4200, 100}, {4110, 90}, {4020, 80}, {3950, 70}, {3870, 60}, {3840, 50},
	{3800, 40},  {3770, 30}, {3730, 20}, {3690, 10}, {3610, 5},  {3270, 0},
};

uint8_t tw_battery_pct(uint32_t cell_mv)
{
	const unsigned n = sizeof curve / sizeof curve[0];
	if (cell_mv >= curve[0].mv) {
		return 100;
	}
	for (unsigned i = 1; i < n; i++) {
		if (cell_mv >= curve[i].mv) {
			const struct curve_point hi = curve[i - 1];
			const struct curve_point lo = curve[i];
			uint32_t span_mv = (uint32_t)hi.mv - lo.mv;
			uint32_t above_mv = cell_mv - lo.mv;
			return (uint8_t)(lo.pct + ((uint32_t)(hi.pct - lo.pct) * above_mv) / span_mv);
		}
	}
	return 0;
}
