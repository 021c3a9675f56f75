# Chromium for the approver console's browser test (internal/e2e), driven
# headless over the DevTools protocol with a virtual WebAuthn authenticator.
# Sourced by scripts/test from the repository root. Installs Debian's
# chromium package when it is missing (as root) and exports
# CUSTOS_TEST_CHROMIUM; unset, the test skips locally and fails when CI=true.

custos_chromium_setup() {
	local bin
	bin=$(command -v chromium || command -v chromium-browser || true)
	if [ -z "$bin" ]; then
		if [ "$(id -u)" -ne 0 ]; then
			echo "chromium is missing and this is not root: the approver console's browser test will skip (apt-get install chromium)" >&2
			return 0
		fi
		echo "installing chromium from Debian's packages"
		DEBIAN_FRONTEND=noninteractive apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
		bin=$(command -v chromium)
	fi
	export CUSTOS_TEST_CHROMIUM="$bin"
}

custos_chromium_setup
unset -f custos_chromium_setup
