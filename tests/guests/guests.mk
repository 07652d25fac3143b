# Test guests: every tests/guests/<name>.c becomes build/guests/<name>.elf, a 32-bit
# multiboot (v1) ELF linked with the runtime in tests/guests/lib/.  Included from the
# top Makefile, which provides BUILD, CC, LD, Q and say.
#
#   make guests          builds them all ($(GUEST_ELFS))
#   tests/guests/run-bare.sh build/guests/hello.elf "" [smp]   runs one on bare QEMU
#
# Built with the host gcc in 32-bit freestanding mode: only gcc's own freestanding
# headers are used and nothing is linked from libgcc (Debian's gcc has no 32-bit
# libgcc without the multilib packages), so 64-bit division goes through udivmod64().

GUEST_DIR    := tests/guests
GUEST_BUILD  := $(BUILD)/guests
GUEST_SRCS   := $(wildcard $(GUEST_DIR)/*.c)
GUEST_ELFS   := $(patsubst $(GUEST_DIR)/%.c,$(GUEST_BUILD)/%.elf,$(GUEST_SRCS))
GUEST_LIB_C  := $(wildcard $(GUEST_DIR)/lib/*.c)
GUEST_LIB_S  := $(wildcard $(GUEST_DIR)/lib/*.S)
GUEST_LIB_OBJ := $(patsubst $(GUEST_DIR)/%.c,$(GUEST_BUILD)/obj/%.o,$(GUEST_LIB_C)) \
                 $(patsubst $(GUEST_DIR)/%.S,$(GUEST_BUILD)/obj/%.o,$(GUEST_LIB_S))
GUEST_LDS    := $(GUEST_DIR)/lib/guest.ld

GUEST_CFLAGS := -m32 -march=i686 -std=c11 -O2 -g -I$(GUEST_DIR)/lib \
                -ffreestanding -fno-pic -fno-pie -nostdlib -static -fno-stack-protector \
                -mno-sse -mno-mmx -mgeneral-regs-only -fno-asynchronous-unwind-tables \
                -fcf-protection=none -fno-strict-aliasing -fno-omit-frame-pointer \
                -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
                -Wno-unused-parameter -MMD -MP
GUEST_ASFLAGS := -m32 -I$(GUEST_DIR)/lib -D__ASSEMBLY__ -MMD -MP
GUEST_LDFLAGS := -m elf_i386 -nostdlib -static -z max-page-size=0x1000 -z noexecstack \
                 --no-warn-rwx-segments

.PHONY: guests
guests: $(GUEST_ELFS)

# The objects come from pattern rules only; without this make deletes them as
# intermediates and relinks every guest on each run.
.SECONDARY: $(GUEST_LIB_OBJ) $(patsubst $(GUEST_DIR)/%.c,$(GUEST_BUILD)/obj/%.o,$(GUEST_SRCS))

$(GUEST_BUILD)/obj/%.o: $(GUEST_DIR)/%.c
	$(call say,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_BUILD)/obj/%.o: $(GUEST_DIR)/%.S
	$(call say,AS,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(GUEST_ASFLAGS) -c $< -o $@

$(GUEST_BUILD)/%.elf: $(GUEST_BUILD)/obj/%.o $(GUEST_LIB_OBJ) $(GUEST_LDS)
	$(call say,LD,$@)
	$(Q)$(LD) $(GUEST_LDFLAGS) -T $(GUEST_LDS) -o $@ $< $(GUEST_LIB_OBJ)
