/* Kernel heap: small objects in size-class pages, large ones in whole frames. */
#ifndef HV_KERNEL_MM_HEAP_H
#define HV_KERNEL_MM_HEAP_H

#include "kernel/types.h"

void *kmalloc(size_t size);
void *kzalloc(size_t size);
void kfree(void *p);

#endif
