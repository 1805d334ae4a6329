#!/bin/sh
# Runs inside a test virtual machine (kernel_vm.py run): the integration
# tests with real namespaces, then an end-to-end scrape of the built binary
# compared with lsns(8) and fresh ioctls. Nothing else runs in the guest, so
# the integration tests check the whole system, not only what they made.
# Usage: guest_tests.sh INTEGRATION_TEST EXPORTER SOURCE_DIR
set -u
integration=$1
exporter=$2
source=$3
echo "guest kernel: $(uname -r)"
status=0
NSEXP_TEST_WHOLE_SYSTEM=1 "$integration" --gtest_brief=1 || status=1
python3 "$source/tests/kernels/guest_scrape.py" --exporter "$exporter" \
  --source "$source" || status=1
exit $status
