/* Every heap page starts with a header, so kfree finds an object's size class
 * (or page count) from the page its pointer lies in.  Small objects never cross
 * a page; a large allocation's pointer is 64 bytes into its first page. */
#include "kernel/mm/heap.h"
#include "kernel/lib/string.h"
#include "kernel/mm/pages.h"
#include "kernel/panic.h"
#include "kernel/spinlock.h"

#define HEAP_MAGIC 0x68656170u /* "heap" */
#define HEADER_SIZE 64
#define CLASS_COUNT 7
#define LARGE 0xFFu

struct heap_page {
	u32 magic;
	u32 size_class; /* index, or LARGE */
	u64 pages;      /* LARGE only */
};

struct free_object {
	struct free_object *next;
};

static const u32 class_size[CLASS_COUNT] = {32, 64, 128, 256, 512, 1024, 2048};
static struct free_object *free_lists[CLASS_COUNT];
static struct spinlock heap_lock = SPINLOCK_INIT;

static int size_to_class(size_t size)
{
	for (int c = 0; c < CLASS_COUNT; c++) {
		if (size <= class_size[c])
			return c;
	}
	return -1;
}

static bool refill(int c)
{
	u8 *page = pages_alloc(1);
	if (!page)
		return false;
	struct heap_page *h = (struct heap_page *)page;
	h->magic = HEAP_MAGIC;
	h->size_class = (u32)c;
	for (u64 off = HEADER_SIZE; off + class_size[c] <= PAGE_SIZE; off += class_size[c]) {
		struct free_object *o = (struct free_object *)(page + off);
		o->next = free_lists[c];
		free_lists[c] = o;
	}
	return true;
}

void *kmalloc(size_t size)
{
	int c = size_to_class(size);

	if (c < 0) {
		u64 pages = (size + HEADER_SIZE + PAGE_SIZE - 1) / PAGE_SIZE;
		u8 *base = pages_alloc(pages);
		if (!base)
			return NULL;
		struct heap_page *h = (struct heap_page *)base;
		h->magic = HEAP_MAGIC;
		h->size_class = LARGE;
		h->pages = pages;
		return base + HEADER_SIZE;
	}
	u64 flags = spin_lock_irqsave(&heap_lock);
	if (!free_lists[c] && !refill(c)) {
		spin_unlock_irqrestore(&heap_lock, flags);
		return NULL;
	}
	struct free_object *o = free_lists[c];
	free_lists[c] = o->next;
	spin_unlock_irqrestore(&heap_lock, flags);
	return o;
}

void *kzalloc(size_t size)
{
	void *p = kmalloc(size);
	if (p)
		memset(p, 0, size);
	return p;
}

void kfree(void *p)
{
	if (!p)
		return;
	struct heap_page *h = (struct heap_page *)ALIGN_DOWN((u64)p, PAGE_SIZE);
	if (h->magic != HEAP_MAGIC)
		panic("kfree(%p): not a heap pointer", p);
	if (h->size_class == LARGE) {
		pages_free(h, h->pages);
		return;
	}
	if (h->size_class >= CLASS_COUNT)
		panic("kfree(%p): corrupt heap page header", p);
	u64 flags = spin_lock_irqsave(&heap_lock);
	struct free_object *o = p;
	o->next = free_lists[h->size_class];
	free_lists[h->size_class] = o;
	spin_unlock_irqrestore(&heap_lock, flags);
}
