#!/usr/bin/env bash
# Makes sure `kubectl` (with its built-in kustomize v5) is installed: deploy/test renders the
# kustomize overlays with it, offline. Installs Debian's kubectl package when it is missing.
set -euo pipefail

if command -v kubectl >/dev/null 2>&1; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "ensure-kubectl: installing Debian's kubectl package" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq kubectl >/dev/null
kubectl version --client >&2
