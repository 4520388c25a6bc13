import type { Rule } from "../document.ts";
import { appDependencyCycle } from "./app-dependency-cycle.ts";
import { appDependencyMissing } from "./app-dependency-missing.ts";
import { appDuplicateDefinition } from "./app-duplicate-definition.ts";
import { appRefResolves } from "./app-ref-resolves.ts";
import { appVersionConflict } from "./app-version-conflict.ts";
import { inputMissing } from "./input-missing.ts";
import { inputNotFile } from "./input-not-file.ts";
import { inputOutsideProject } from "./input-outside-project.ts";
import { inputPinned } from "./input-pinned.ts";
import { inputSource } from "./input-source.ts";
import { inputUnpinned } from "./input-unpinned.ts";
import { layerOrder } from "./layer-order.ts";
import { mcsNeedsShutdown } from "./mcs-needs-shutdown.ts";
import { mcsNeedsVda } from "./mcs-needs-vda.ts";
import { osFamilyInstall } from "./os-family-install.ts";
import { osTimezone } from "./os-timezone.ts";
import { pvsNeedsTargetDevice } from "./pvs-needs-target-device.ts";
import { pvsNoDomainJoin } from "./pvs-no-domain-join.ts";
import { pvsNoShutdown } from "./pvs-no-shutdown.ts";
import { pvsWithoutVda } from "./pvs-without-vda.ts";
import { recipeDuplicateEntry } from "./recipe-duplicate-entry.ts";
import { recipeDuplicateName } from "./recipe-duplicate-name.ts";
import { recipeFileName } from "./recipe-file-name.ts";
import { scriptSource } from "./script-source.ts";
import { secretLiteral } from "./secret-literal.ts";
import { secureBootNeedsUefi } from "./secure-boot-needs-uefi.ts";
import { windows11NeedsTpm } from "./windows-11-needs-tpm.ts";

/** Every named rule, in the order their problems are reported. */
export const rules: readonly Rule[] = [
  // Names and references.
  recipeDuplicateName,
  appDuplicateDefinition,
  recipeDuplicateEntry,
  appRefResolves,
  appDependencyMissing,
  appDependencyCycle,
  appVersionConflict,
  osFamilyInstall,
  osTimezone,
  // Inputs.
  inputSource,
  inputPinned,
  inputUnpinned,
  inputMissing,
  inputOutsideProject,
  inputNotFile,
  // Layer order and the MCS / PVS rules (seed 000).
  layerOrder,
  mcsNeedsVda,
  mcsNeedsShutdown,
  pvsNeedsTargetDevice,
  pvsNoDomainJoin,
  pvsNoShutdown,
  pvsWithoutVda,
  // Hardware.
  secureBootNeedsUefi,
  windows11NeedsTpm,
  // Scripts and files.
  scriptSource,
  secretLiteral,
  recipeFileName,
];

