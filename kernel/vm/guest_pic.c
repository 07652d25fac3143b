/* The guest's view of the 8259 PICs, until interrupts are virtualised.  The
 * real PICs stay masked and remapped by the hypervisor: a guest that could
 * program them could pick vectors below 32, and on SVM a physical interrupt
 * is taken through the host's IDT, where such a vector would look like a CPU
 * exception.  So the ports are emulated: the guest can initialise and mask
 * its PICs, read back what it wrote, and never receives an interrupt from
 * them (the interrupt issue replaces this with real delivery). */
#include "kernel/spinlock.h"
#include "kernel/vm/exits.h"

#define PIC_MASTER_CMD 0x20
#define PIC_MASTER_DATA 0x21
#define PIC_SLAVE_CMD 0xA0
#define PIC_SLAVE_DATA 0xA1
#define ICW1_INIT 0x10
#define ICW1_NEEDS_ICW4 0x01
#define OCW3_SELECT 0x08
#define OCW3_READ_ISR 0x03

struct pic_state {
	u8 imr;
	u8 init_step; /* 0: operational; 1..3: expecting ICW2..ICW4 */
	bool needs_icw4;
	bool read_isr;
	u8 vector_base; /* ICW2, recorded for debugging only */
};

static struct pic_state pics[2] = {{.imr = 0xFF}, {.imr = 0xFF}};
static struct spinlock pic_lock = SPINLOCK_INIT;

bool guest_pic_claims(u16 port)
{
	return port == PIC_MASTER_CMD || port == PIC_MASTER_DATA || port == PIC_SLAVE_CMD ||
	       port == PIC_SLAVE_DATA;
}

static void command_write(struct pic_state *p, u8 v)
{
	if (v & ICW1_INIT) {
		p->init_step = 1;
		p->needs_icw4 = v & ICW1_NEEDS_ICW4;
		p->imr = 0;
		p->read_isr = false;
	} else if ((v & 0x18) == OCW3_SELECT) {
		p->read_isr = (v & OCW3_READ_ISR) == OCW3_READ_ISR;
	}
	/* OCW2 (EOI and friends): nothing is ever in service. */
}

static void data_write(struct pic_state *p, u8 v)
{
	switch (p->init_step) {
	case 1:
		p->vector_base = v & 0xF8;
		p->init_step = 2;
		break;
	case 2: /* ICW3: cascade wiring */
		p->init_step = p->needs_icw4 ? 3 : 0;
		break;
	case 3: /* ICW4 */
		p->init_step = 0;
		break;
	default: /* OCW1 */
		p->imr = v;
		break;
	}
}

void guest_pic_io(u16 port, bool in, u32 *value)
{
	struct pic_state *p = &pics[port >= PIC_SLAVE_CMD];
	bool data = port & 1;

	spin_lock(&pic_lock);
	if (in)
		*value = data ? p->imr : 0; /* IRR and ISR are always empty */
	else if (data)
		data_write(p, (u8)*value);
	else
		command_write(p, (u8)*value);
	spin_unlock(&pic_lock);
}
