/*
 * Calling the Hv#1 hypervisor from a 32-bit test guest (lib/hvcall.c): enabling
 * the hypercall page, and hypercalls in the 32-bit register convention
 * (TLFS 3.8): input value in EDX:EAX, input GPA (or the first fast qword) in
 * EBX:ECX, output GPA (or the second fast qword) in EDI:ESI, result in EDX:EAX.
 */
#ifndef HVCALL_H
#define HVCALL_H

#include "guest.h"
#include "hv_tlfs.h"

/* Sets a guest OS id and places the hypercall page (hvcall.c owns it, at
 * hvcall_page_addr: 64-bit code calls it there). */
extern u32 hvcall_page_addr;
void hvcall_enable(void);
/* One hypercall; returns the 64-bit result value. */
u64 hvcall(u64 control, u64 in, u64 out);
static inline u32 hvcall_status(u64 result) { return (u32)(result & 0xFFFF); }
static inline u32 hvcall_reps(u64 result) { return (u32)((result >> 32) & 0xFFF); }
/* A whole test: the call's HV_STATUS must be `want`. */
void hvcall_expect(const char *name, u64 result, u32 want);

#endif
