#!/bin/bash
# cloud-init user data for a Sextant node on EC2 (scripts/ec2/launch puts the settings below
# in front of this script). As root at first boot it: installs awscli, fetches the release
# tarball from S3 with the instance profile's credentials (no keys on disk), installs the
# system libraries the binary links (RUNTIME-PACKAGES), fetches its role's secret from SSM
# Parameter Store into /etc/sextant/secret (mode 600: on the master the cluster secret, on an
# executor only the executor credential, which cannot submit jobs), and starts sextant-master
# or sextant-executor as a systemd service.
#
# Settings: SEXTANT_ROLE (master|executor), SEXTANT_REGION, SEXTANT_TARBALL (s3:// URI),
# SEXTANT_SECRET_PARAMETER (SSM name of the secret or credential), SEXTANT_MASTER_HOST,
# SEXTANT_MASTER_PORT.
# SEXTANT_ROOT prefixes every path written (empty on an instance; tests use a scratch root).
set -euo pipefail
: "${SEXTANT_ROLE:?}" "${SEXTANT_REGION:?}" "${SEXTANT_TARBALL:?}" "${SEXTANT_SECRET_PARAMETER:?}"
[[ $SEXTANT_ROLE == master || $SEXTANT_ROLE == executor ]] || { echo "SEXTANT_ROLE must be master or executor" >&2; exit 2; }
root=${SEXTANT_ROOT:-}
port=${SEXTANT_MASTER_PORT:-7077}
export DEBIAN_FRONTEND=noninteractive

apt-get update -qq
apt-get install -y -qq awscli ca-certificates

download=$(mktemp -d)
trap 'rm -rf "$download"' EXIT
aws s3 cp --only-show-errors --region "$SEXTANT_REGION" "$SEXTANT_TARBALL" "$download/sextant.tar.gz"
install -d -m 755 "$root/opt/sextant"
tar -xzf "$download/sextant.tar.gz" -C "$root/opt/sextant" --strip-components=1 --no-same-owner
if [[ -s $root/opt/sextant/RUNTIME-PACKAGES ]]; then
    mapfile -t packages <"$root/opt/sextant/RUNTIME-PACKAGES"
    apt-get install -y -qq "${packages[@]}"
fi
install -d -m 755 "$root/usr/local/bin"
ln -sf /opt/sextant/bin/sextant "$root/usr/local/bin/sextant"

id sextant >/dev/null 2>&1 || useradd --system --home-dir /var/lib/sextant --shell /usr/sbin/nologin sextant

# The secret (or credential): root-only on disk; systemd hands the service its own copy (LoadCredential=).
install -d -m 755 "$root/etc/sextant"
(
    umask 077
    aws ssm get-parameter --region "$SEXTANT_REGION" --name "$SEXTANT_SECRET_PARAMETER" --with-decryption \
        --query Parameter.Value --output text >"$root/etc/sextant/secret.new"
    mv "$root/etc/sextant/secret.new" "$root/etc/sextant/secret"
)
chmod 600 "$root/etc/sextant/secret"
[[ -f $root/opt/sextant/conf/sextant-defaults.conf ]] &&
    install -m 644 "$root/opt/sextant/conf/sextant-defaults.conf" "$root/etc/sextant/sextant-defaults.conf"
# S3 with the instance role's credentials (IMDSv2), never keys on disk.
echo "sextant.s3.instanceProfile true" >>"$root/etc/sextant/sextant-defaults.conf"
cat >"$root/etc/sextant/sextant.env" <<ENV
# Written by the EC2 user data (scripts/ec2/user-data.sh).
SEXTANT_MASTER=sextant://${SEXTANT_MASTER_HOST:-127.0.0.1}:$port
SEXTANT_MASTER_BIND=0.0.0.0
SEXTANT_MASTER_PORT=$port
SEXTANT_MASTER_OPTS=
SEXTANT_EXECUTOR_OPTS=
ENV

unit=sextant-$SEXTANT_ROLE.service
install -d -m 755 "$root/etc/systemd/system"
install -m 644 "$root/opt/sextant/conf/systemd/$unit" "$root/etc/systemd/system/$unit"
systemctl daemon-reload
systemctl enable --now "$unit"
echo "sextant: $unit started"
