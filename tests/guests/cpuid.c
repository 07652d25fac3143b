/*
 * cpuid: the CPUID policy a guest sees.
 *
 * With `hv` on the command line (the guest runs under our hypervisor) it asserts
 * the hypervisor-present bit CPUID.1:ECX[31] is set and that VMX (CPUID.1:ECX[5])
 * and SVM (CPUID.80000001h:ECX[2]) are hidden. Without `hv` it only prints what it
 * sees (bare QEMU sets the hypervisor bit itself and offers SVM with -cpu EPYC).
 */
#include "guest.h"

const char guest_name[] = "cpuid";

#define CPUID1_ECX_VMX  (1u << 5)
#define CPUID1_ECX_HV   (1u << 31)
#define EXT1_ECX_SVM    (1u << 2)
#define CPUID1_EDX_ACPI (1u << 22)
#define CPUID1_EDX_TM   (1u << 29)
#define CPUID1_ECX_TM2  (1u << 8)
#define EXT1_EDX_NX     (1u << 20)
#define EXT1_EDX_LM     (1u << 29)

static void put_regs_as_text(char *out, const u32 *regs, int n)
{
	for (int i = 0; i < n; i++)
		for (int j = 0; j < 4; j++) {
			char c = (char)(regs[i] >> (8 * j));
			*out++ = (c >= 32 && c < 127) ? c : '.';
		}
	*out = '\0';
}

void guest_main(void)
{
	bool hv = cmdline_has("hv");
	u32 a, b, c, d;

	cpuid(0, 0, &a, &b, &c, &d);
	u32 max_basic = a;
	u32 vendor[3] = { b, d, c };
	char text[49];
	put_regs_as_text(text, vendor, 3);
	printf("CPUID vendor='%s' max_basic=0x%x\n", text, max_basic);

	cpuid(1, 0, &a, &b, &c, &d);
	u32 ecx1 = c, edx1 = d;
	u32 family = (a >> 8) & 0xf, model = (a >> 4) & 0xf;
	if (family == 0xf)
		family += (a >> 20) & 0xff;
	if (family >= 6)
		model |= ((a >> 16) & 0xf) << 4;
	printf("CPUID 1 eax=%08x ebx=%08x ecx=%08x edx=%08x family=0x%x model=0x%x\n",
	       a, b, c, d, family, model);
	printf("CPUID hypervisor=%u vmx=%u\n", !!(ecx1 & CPUID1_ECX_HV), !!(ecx1 & CPUID1_ECX_VMX));

	cpuid(0x80000000, 0, &a, &b, &c, &d);
	u32 max_ext = a;
	u32 ecx_ext1 = 0, edx_ext1 = 0;
	if (max_ext >= 0x80000001) {
		cpuid(0x80000001, 0, &a, &b, &c, &d);
		ecx_ext1 = c;
		edx_ext1 = d;
		printf("CPUID 80000001 ecx=%08x edx=%08x svm=%u nx=%u lm=%u\n", c, d,
		       !!(c & EXT1_ECX_SVM), !!(d & EXT1_EDX_NX), !!(d & EXT1_EDX_LM));
	}
	if (max_ext >= 0x80000004) {
		u32 brand[12];
		for (u32 i = 0; i < 3; i++)
			cpuid(0x80000002 + i, 0, &brand[4 * i], &brand[4 * i + 1], &brand[4 * i + 2],
			      &brand[4 * i + 3]);
		put_regs_as_text(text, brand, 12);
		printf("CPUID brand='%s'\n", text);
	}
	if (ecx1 & CPUID1_ECX_HV) {
		cpuid(0x40000000, 0, &a, &b, &c, &d);
		u32 sig[3] = { b, c, d };
		put_regs_as_text(text, sig, 3);
		printf("CPUID 40000000 max=0x%x signature='%s'\n", a, text);
	}

	/* Sanity that holds everywhere these guests run. */
	test_begin("cpuid-leaves");
	EXPECT(max_basic >= 1);
	EXPECT(max_ext >= 0x80000001);
	EXPECT(edx_ext1 & EXT1_EDX_LM);
	test_end();

	if (!hv) {
		note("no 'hv' on the command line: policy not checked");
		return;
	}
	test_result("cpuid-hypervisor-bit", ecx1 & CPUID1_ECX_HV,
		    "CPUID.1:ECX[31] is clear (ecx=%08x)", ecx1);
	test_result("cpuid-vmx-hidden", !(ecx1 & CPUID1_ECX_VMX),
		    "CPUID.1:ECX[5] (VMX) is set (ecx=%08x)", ecx1);
	test_result("cpuid-svm-hidden", !(ecx_ext1 & EXT1_ECX_SVM),
		    "CPUID.80000001h:ECX[2] (SVM) is set (ecx=%08x)", ecx_ext1);
	/* Thermal monitoring stays the hypervisor's (docs/guest-policy.md). */
	test_result("cpuid-thermal-monitor-hidden",
		    !(edx1 & (CPUID1_EDX_ACPI | CPUID1_EDX_TM)) && !(ecx1 & CPUID1_ECX_TM2),
		    "CPUID.1: edx=%08x ecx=%08x", edx1, ecx1);
}
