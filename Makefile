# Hypervisor build.  `make` builds build/hv.elf and build/hv.iso;
# `make test` runs every test tier; `make run` boots under QEMU; `make bench`
# runs the benchmarks.  Missing Debian packages are installed by tools/deps.sh.

BUILD      := build
CC         := gcc
LD         := ld
PYTHON     := python3

# Sources of the hypervisor image.  Everything in these folders is linked in;
# tests/unit compiles the pure-logic files among them natively.
IMAGE_DIRS := boot arch/x86 kernel kernel/lib kernel/mm kernel/vm kernel/shell svm vmx hyperv
IMAGE_C    := $(foreach d,$(IMAGE_DIRS),$(wildcard $(d)/*.c))
IMAGE_S    := $(foreach d,$(IMAGE_DIRS),$(wildcard $(d)/*.S))
IMAGE_OBJ  := $(patsubst %.c,$(BUILD)/obj/%.o,$(IMAGE_C)) \
              $(patsubst %.S,$(BUILD)/obj/%.o,$(IMAGE_S))

WARN       := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
              -Wno-unused-parameter
# No SSE/x87 anywhere in the image: guest FPU state must never be clobbered by us,
# and no red zone because interrupts arrive on the same stack.
KCFLAGS    := -std=c11 -O2 -g $(WARN) -I. -ffreestanding -fno-pic -fno-pie \
              -mcmodel=kernel -mno-red-zone -mgeneral-regs-only -mno-sse -mno-mmx \
              -fno-stack-protector -fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
              -fno-strict-aliasing -fcf-protection=none -MMD -MP
KASFLAGS   := -I. -D__ASSEMBLY__ -MMD -MP
KLDFLAGS   := -nostdlib -static -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments

.PHONY: all iso test test-open unit scenarios run bench clean deps linux-guest
all: $(BUILD)/hv.elf $(BUILD)/hv.iso guests linux-guest

# V=1 shows the full commands.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2)
endif

$(BUILD)/obj/%.o: %.c
	$(call say,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(KCFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.S
	$(call say,AS,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(KASFLAGS) -c $< -o $@

$(BUILD)/hv.elf: $(IMAGE_OBJ) linker.ld
	$(call say,LD,$@)
	$(Q)$(LD) $(KLDFLAGS) -T linker.ld -o $@ $(IMAGE_OBJ)

# The demo guest: Debian's stock kernel and a busybox initramfs, from Debian's
# packages (tools/mklinux-guest.sh; it does nothing when they are up to date).
LINUX_DIR := $(BUILD)/linux
LINUX_GUEST := $(LINUX_DIR)/vmlinuz $(LINUX_DIR)/initrd.img
$(LINUX_GUEST) &: tools/mklinux-guest.sh
	$(call say,LINUX,$(LINUX_DIR))
	$(Q)tools/mklinux-guest.sh $(LINUX_DIR)
linux-guest: $(LINUX_GUEST)

# The default image boots the Linux guest on every CPU, so `make run` lands in
# its shell (and Ctrl-] x3 in the hypervisor shell).
$(BUILD)/hv.iso: $(BUILD)/hv.elf tools/mkiso.sh $(LINUX_GUEST)
	$(call say,ISO,$@)
	$(Q)tools/mkiso.sh $@ $(BUILD)/hv.elf "" $(LINUX_DIR)/vmlinuz "linux console=ttyS0" \
	    $(LINUX_DIR)/initrd.img "initrd"

iso: $(BUILD)/hv.iso

deps:
	@tools/deps.sh

# ---- unit tier -------------------------------------------------------------
# Each tests/unit/test_<name>.c names the files it is built from on a line
#   /* unit-sources: kernel/lib/format.c tests/unit/fake_printk.c */
# and becomes its own sanitized binary.  An optional line
#   /* unit-libs: -lZydis */
# adds linker flags (Debian's libzydis-dev ships no pkg-config file).
UNIT_CFLAGS := -std=c11 -g -O1 -I. $(WARN) -Wno-missing-prototypes -DHV_HOST_TEST \
               -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
UNIT_BINS   := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))
unit_deps    = $(shell sed -n 's|^/\* unit-sources: \(.*\) \*/$$|\1|p' $(1))
unit_libs    = $(shell sed -n 's|^/\* unit-libs: \(.*\) \*/$$|\1|p' $(1))

.SECONDEXPANSION:
$(BUILD)/unit/%: tests/unit/%.c $$(call unit_deps,tests/unit/%.c) $$(wildcard tests/unit/*.h)
	$(call say,UNIT,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(UNIT_CFLAGS) -o $@ $< $(call unit_deps,$<) $$(pkg-config --cflags --libs check) $(call unit_libs,$<)
	@# Header dependencies of every source the test links (one -MM run: -MMD
	@# would keep only the last source's list when several are linked at once).
	$(Q)$(CC) -MM -MP -MT $@ -I. -DHV_HOST_TEST $< $(call unit_deps,$<) > $@.d

unit: deps $(UNIT_BINS)
	@$(PYTHON) tests/runner.py --build $(BUILD) --unit "$(UNIT_BINS)"

scenarios: deps all
	@$(PYTHON) tests/runner.py --build $(BUILD) tests/scenarios

# Both tiers, one summary line: "N passed, M failed".
test: deps all $(UNIT_BINS)
	@$(PYTHON) tests/runner.py --build $(BUILD) --unit "$(UNIT_BINS)" tests/scenarios

# Scenarios that fail today, each for an open bug its file names (not in CI).
test-open: deps all
	@$(PYTHON) tests/runner.py --build $(BUILD) tests/scenarios-open

run: deps all
	qemu-system-x86_64 -accel tcg -cpu EPYC -smp 2 -m 512 -display none -no-reboot \
	    -nodefaults -serial mon:stdio -cdrom $(BUILD)/hv.iso -boot d

bench: deps all
	@$(PYTHON) tests/bench.py --build $(BUILD)
	@# bash's pipefail: a failed Linux benchmark must fail `make bench`, tee or not.
	@bash -o pipefail -c '$(PYTHON) tests/bench_linux.py --build $(BUILD) | tee -a $(BUILD)/bench.txt'

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# Test guests (tests/guests/) bring their own build rules.
-include tests/guests/guests.mk
