/* Host-side stand-in for the kernel log: records every line so tests can assert
 * that malformed input was reported, not silently accepted. */
#ifndef HV_TESTS_FAKE_PRINTK_H
#define HV_TESTS_FAKE_PRINTK_H

#include <stdbool.h>

void fake_printk_reset(void);
/* True when some recorded text contains needle. */
bool fake_printk_contains(const char *needle);
/* Number of lines recorded at LOG_ERR or LOG_WARN since the last reset. */
int fake_printk_problems(void);
const char *fake_printk_text(void);

#endif
