/* GDT selectors shared by the assembly files; guest.h has the same values for C. */
#ifndef SELECTORS_H
#define SELECTORS_H
#define SEL_CODE32 0x08
#define SEL_DATA32 0x10
#define SEL_CODE64 0x18
#define SEL_CODE16 0x20
#define SEL_DATA16 0x28
#endif
