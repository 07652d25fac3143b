/* See hv_synic.h.  No synthetic timers exist yet: nothing expires. */
#include "hyperv/hv_synic.h"

void hv_vp_poll(struct vp *vp, u64 now)
{
	(void)vp;
	(void)now;
}

u64 hv_vp_next_deadline(struct vp *vp)
{
	(void)vp;
	return 0;
}
