/* Boot-time CPU feature discovery. */
#include "arch/x86/cpu.h"
#include "kernel/lib/string.h"

struct cpu_features cpu_features;

void cpu_features_detect(void)
{
	struct cpu_features *f = &cpu_features;
	struct cpuid_regs r = cpuid(0);

	f->max_leaf = r.eax;
	memcpy(f->vendor + 0, &r.ebx, 4);
	memcpy(f->vendor + 4, &r.edx, 4);
	memcpy(f->vendor + 8, &r.ecx, 4);
	f->vendor[12] = '\0';

	r = cpuid(1);
	f->stepping = r.eax & 0xF;
	f->model = (r.eax >> 4) & 0xF;
	f->family = (r.eax >> 8) & 0xF;
	/* The extended fields only count for families 6 and 15 (SDM Vol. 2A, CPUID). */
	if (f->family == 0xF)
		f->family += (r.eax >> 20) & 0xFF;
	if (f->family == 0x6 || f->family >= 0xF)
		f->model |= ((r.eax >> 16) & 0xF) << 4;
	f->vmx = r.ecx & (1u << 5);
	f->x2apic = r.ecx & (1u << 21);
	f->xsave = r.ecx & (1u << 26);
	f->hypervisor = r.ecx & (1u << 31);

	r = cpuid(0x80000000);
	f->max_ext_leaf = r.eax;
	if (f->max_ext_leaf >= 0x80000001) {
		r = cpuid(0x80000001);
		f->svm = r.ecx & (1u << 2);
		f->nx = r.edx & (1u << 20);
		f->pdpe1gb = r.edx & (1u << 26);
	}
	if (f->max_ext_leaf >= 0x80000004) {
		for (u32 i = 0; i < 3; i++) {
			r = cpuid(0x80000002 + i);
			memcpy(f->brand + i * 16 + 0, &r.eax, 4);
			memcpy(f->brand + i * 16 + 4, &r.ebx, 4);
			memcpy(f->brand + i * 16 + 8, &r.ecx, 4);
			memcpy(f->brand + i * 16 + 12, &r.edx, 4);
		}
		f->brand[48] = '\0';
	}
	if (f->max_ext_leaf >= 0x80000007)
		f->tsc_invariant = cpuid(0x80000007).edx & (1u << 8);
	f->phys_addr_bits = 36;
	if (f->max_ext_leaf >= 0x80000008)
		f->phys_addr_bits = cpuid(0x80000008).eax & 0xFF;
}

const char *cpu_virt_name(void)
{
	/* A CPU reporting both would be odd; the vendor's own extension wins. */
	if (cpu_features.vmx && strcmp(cpu_features.vendor, "GenuineIntel") == 0)
		return "vmx";
	if (cpu_features.svm)
		return "svm";
	if (cpu_features.vmx)
		return "vmx";
	return "none";
}
