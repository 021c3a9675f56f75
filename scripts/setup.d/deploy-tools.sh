# Tools for the tests of deploy/: podman builds the container image from a
# release archive (and the test takes the binary out of it without running a
# container), systemd-analyze verifies the service units. Sourced by
# scripts/test from the repository root. Installs Debian's podman and
# systemd when missing (as root); without them those tests skip locally and
# fail when CI=true.

custos_deploy_tools_setup() {
	local missing=()
	command -v podman >/dev/null 2>&1 || missing+=(podman)
	command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
	if [ "${#missing[@]}" -eq 0 ]; then
		return 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		echo "${missing[*]} missing and this is not root: the deploy tests will skip (apt-get install ${missing[*]})" >&2
		return 0
	fi
	echo "installing ${missing[*]} from Debian's packages"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

custos_deploy_tools_setup
unset -f custos_deploy_tools_setup
