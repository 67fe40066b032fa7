<#
.SYNOPSIS
Installs the tweetguard helper for every user of a Windows machine, or takes it away.

.DESCRIPTION
Run from an elevated PowerShell (Windows PowerShell 5.1 or PowerShell 7), e.g. by
Intune, Configuration Manager or a GPO start-up script. What it does, in order
(docs/deploy.md, "Windows"):

  1. a virtualenv in C:\Program Files\tweetguard with the helper, installed offline
     from a folder of wheels (made once with `./build.sh package` and `pip download
     --platform win_amd64`; docs/deploy.md says how), on a Python 3.11+ installed for
     all users;
  2. the shared data folder C:\ProgramData\tweetguard: read by every user, written by
     administrators; its audit.d lets each user create their own audit file (and
     only the creator may change it);
  3. `tweetguard install-host --system`: the host manifests and their launchers, and
     the HKLM keys that name them (Chrome, Edge, Chromium, Brave, Vivaldi, Firefox),
     all listed in the install record so -Uninstall removes exactly them;
     -ExportReg FILE also writes those keys as a .reg file for a GPO;
  4. TWEETGUARD_HOME for the machine, so `tweetguard` run by IT works on the
     shared data folder;
  5. -Policies FILE: imports the school's windows-chrome-edge.reg, the one
     `./build.sh package --update-url URL` made in dist/packages/policies/ for the
     school's extension id and update server (force-install, only tweetguard's
     host), for machines outside a domain; a domain pushes the same settings by GPO
     or Intune instead. The committed template in native-messaging\policies names
     a placeholder server and is refused, as is any file still saying REPLACE-WITH;
  6. `tweetguard doctor`, so IT sees every link checked before leaving the machine.

Chromium ignores --user-data-dir for native hosts on Windows: the registry keys are
all that count, for every profile.

.EXAMPLE
powershell -ExecutionPolicy Bypass -File install.ps1 -Wheels \\fileserver\deploy\tweetguard\wheels

.EXAMPLE
powershell -ExecutionPolicy Bypass -File install.ps1 -Wheels D:\tweetguard\wheels -Policies D:\tweetguard\policies\windows-chrome-edge.reg

.EXAMPLE
powershell -ExecutionPolicy Bypass -File install.ps1 -Uninstall
#>
[CmdletBinding()]
param(
    # The folder with tweetguard's wheel and every dependency's wheel for this Windows.
    [string]$Wheels = "",
    # A Python 3.11+ for all users (default: the py launcher's newest 3.x).
    [string]$Python = "",
    [string]$Prefix = "$env:ProgramFiles\tweetguard",
    [string]$Data = "$env:ProgramData\tweetguard",
    # Browsers to register (default: those installed); chrome, chromium, edge, brave, vivaldi, firefox.
    [string[]]$Browser = @(),
    # The Chromium extension id(s) to allow when the school signs its own CRX.
    [string[]]$ExtensionId = @(),
    [string]$FirefoxId = "",
    # Also write the HKLM keys as a .reg file (for a GPO).
    [string]$ExportReg = "",
    # The school's built policies to import (dist/packages/policies/windows-chrome-edge.reg).
    [string]$Policies = "",
    [switch]$Uninstall
)

Set-StrictMode -Version 3
$ErrorActionPreference = "Stop"

function Fail([string]$Message) {
    # One line: what is wrong and what to do.
    Write-Error "install.ps1: $Message" -ErrorAction Continue
    exit 1
}

$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    Fail "run it from an elevated PowerShell (Run as administrator): it writes HKLM and $Prefix"
}

$Tweetguard = Join-Path $Prefix "Scripts\tweetguard.exe"
$VenvPython = Join-Path $Prefix "Scripts\python.exe"

# `powershell -File` hands "-Browser chrome,edge" over as one string: split it.
$Browser = @($Browser | ForEach-Object { $_ -split "," } | Where-Object { $_ })
$ExtensionId = @($ExtensionId | ForEach-Object { $_ -split "," } | Where-Object { $_ })

# The arguments every install-host/uninstall-host call shares.
$HostArgs = @()
foreach ($name in $Browser) { $HostArgs += @("--browser", $name) }

function Invoke-Tweetguard([string[]]$Arguments) {
    & $Tweetguard --home $Data @Arguments
    if ($LASTEXITCODE -ne 0) {
        Fail "tweetguard $($Arguments -join ' ') failed (exit $LASTEXITCODE); see the line above, then run: `"$Tweetguard`" doctor"
    }
}

if ($Uninstall) {
    if (-not (Test-Path $Tweetguard)) {
        Fail "no tweetguard in $Prefix (nothing to uninstall, or pass -Prefix)"
    }
    Invoke-Tweetguard (@("uninstall-host", "--system") + $HostArgs)
    [Environment]::SetEnvironmentVariable("TWEETGUARD_HOME", $null, "Machine")
    Remove-Item -LiteralPath $Prefix -Recurse -Force
    Write-Output "tweetguard is uninstalled. The school's data in $Data (register, audit) is kept; delete it when no longer needed."
    exit 0
}

# The policies are checked before anything is installed: a placeholder update server
# would force-install from nowhere on every profile of this machine.
if ($Policies) {
    if (-not (Test-Path -LiteralPath $Policies -PathType Leaf)) {
        Fail "-Policies $Policies is not a file this machine can read; pass the windows-chrome-edge.reg from dist/packages/policies/"
    }
    if (Select-String -LiteralPath $Policies -SimpleMatch "REPLACE-WITH" -Quiet) {
        Fail "$Policies still names a placeholder (REPLACE-WITH...); pass the windows-chrome-edge.reg that ./build.sh package --update-url URL made in dist/packages/policies/"
    }
}

if (-not $Wheels) {
    Fail "-Wheels DIR is needed: the folder with tweetguard's wheel and its dependencies' (docs/deploy.md)"
}
if (-not (Test-Path -LiteralPath $Wheels -PathType Container)) {
    Fail "-Wheels $Wheels is not a folder this machine can read"
}

function Test-PythonVersion([string]$Candidate) {
    if (-not $Candidate) { return $false }
    & $Candidate -c "import sys; sys.exit(sys.version_info < (3, 11))" 2>$null
    return ($LASTEXITCODE -eq 0)
}

if (-not $Python) {
    $launcher = Get-Command py.exe -ErrorAction SilentlyContinue
    if ($launcher) {
        $found = & $launcher.Source -3 -c "import sys; print(sys.executable)" 2>$null
        if ($LASTEXITCODE -eq 0) { $Python = "$found".Trim() }
    }
}
if (-not (Test-PythonVersion $Python)) {
    Fail "no Python 3.11 or newer for all users: install it (python.org installer with InstallAllUsers=1, or winget install Python.Python.3.12 --scope machine), or pass -Python C:\path\python.exe"
}

Write-Output "==> The helper's virtualenv in $Prefix (offline, from $Wheels)"
if (Test-Path -LiteralPath $Prefix) { Remove-Item -LiteralPath $Prefix -Recurse -Force }
& $Python -m venv $Prefix
if ($LASTEXITCODE -ne 0) { Fail "$Python could not make a virtualenv in $Prefix" }
& $VenvPython -m pip install --quiet --no-index --disable-pip-version-check --find-links $Wheels tweetguard
if ($LASTEXITCODE -ne 0) {
    Fail "pip could not install tweetguard from ${Wheels}: it needs tweetguard's wheel and every dependency's for this Windows (docs/deploy.md)"
}

Write-Output "==> The shared data folder $Data"
$auditDir = Join-Path $Data "audit.d"
New-Item -ItemType Directory -Force -Path $auditDir | Out-Null
# Well-known SIDs, so this works in every language of Windows: SYSTEM, Administrators,
# Users, CREATOR OWNER. Users read the data folder; in audit.d they may add files
# (not change the folder), and whoever made a file has full control of it alone.
& icacls.exe $Data /inheritance:r /grant:r "*S-1-5-18:(OI)(CI)F" "*S-1-5-32-544:(OI)(CI)F" "*S-1-5-32-545:(OI)(CI)RX" | Out-Null
if ($LASTEXITCODE -ne 0) { Fail "icacls could not set who may read $Data" }
& icacls.exe $auditDir /inheritance:r /grant:r "*S-1-5-18:(OI)(CI)F" "*S-1-5-32-544:(OI)(CI)F" "*S-1-5-32-545:(RX,WD,AD)" "*S-1-3-0:(OI)(CI)(IO)F" | Out-Null
if ($LASTEXITCODE -ne 0) { Fail "icacls could not let users add their own audit file in $auditDir" }

Write-Output "==> Host manifests and HKLM keys for every user's browsers"
$installArgs = @("install-host", "--system") + $HostArgs
foreach ($id in $ExtensionId) { $installArgs += @("--extension-id", $id) }
if ($FirefoxId) { $installArgs += @("--firefox-id", $FirefoxId) }
if ($ExportReg) { $installArgs += @("--export-reg", $ExportReg) }
Invoke-Tweetguard $installArgs

[Environment]::SetEnvironmentVariable("TWEETGUARD_HOME", $Data, "Machine")

if ($Policies) {
    Write-Output "==> Browser policies from $Policies"
    & reg.exe import $Policies
    if ($LASTEXITCODE -ne 0) { Fail "reg import $Policies failed; push the same settings by GPO or Intune instead" }
}

Write-Output "==> tweetguard doctor"
# Said, not fatal: a register not imported yet fails its check until IT imports it.
& $Tweetguard --home $Data doctor

Write-Output ""
Write-Output "tweetguard's helper is installed for every user of this machine (data: $Data)."
Write-Output "Next: push the browser policies (GPO, Intune or -Policies FILE), then import the register"
Write-Output "(`"$Tweetguard`" consent import export.xlsx) or enrol with the school's server"
Write-Output "(`"$Tweetguard`" enrol https://SERVER --code CODE). Check any time with: `"$Tweetguard`" doctor"
exit 0
