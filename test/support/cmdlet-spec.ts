/**
 * A vendor cmdlet as data, read from the vendor's published reference: what a stub module needs to
 * refuse what the real cmdlet would refuse (unknown parameters, a missing mandatory one, a mix of
 * parameter sets, a required group left out) and to return what it returns, and nothing more.
 * Tables: pvs-cmdlets.ts (Citrix.PVS.SnapIn), ../contracts/citrix-mcs-cmdlets.ts (the Citrix SDK
 * cmdlets of MCS publishing); the generator: powershell-stub.ts.
 */

/** Types as the reference names them; any other name is a vendor object type (passed as [object]). */
export type PsType =
  | "string"
  | "string[]"
  | "Guid"
  | "Guid[]"
  | "uint"
  | "UInt64"
  | "int"
  | "bool"
  | "DateTime"
  | "SwitchParameter"
  | `${string}[]`
  | (string & {});

export interface CmdletParameter {
  readonly name: string;
  readonly type: PsType;
  readonly aliases?: readonly string[];
  /** Mandatory in every parameter set it belongs to. */
  readonly mandatory?: boolean;
  /** The parameter sets (the reference's Syntax blocks) it belongs to; absent means every set. */
  readonly sets?: readonly string[];
  /** Accepted from the pipeline (by value). */
  readonly pipeline?: boolean;
  /** Bound by position; parameters without one are named only. */
  readonly position?: number;
  /** The reference's "Max Length=N" for a string. */
  readonly maxLength?: number;
}

/** One thing the reference says a cmdlet returns. */
export interface CmdletReturn {
  readonly type: PsType;
  /** Returned only when this (switch) parameter is given; the first matching entry applies. */
  readonly when?: string;
}

export interface CmdletSpec {
  readonly name: string;
  /** Where in the reference this entry was read (a heading, a URL, or a repository file). */
  readonly section: string;
  readonly parameters: readonly CmdletParameter[];
  /** The parameter set PowerShell binds when the given parameters fit more than one. */
  readonly defaultSet?: string;
  /** Groups of which at least one member must be given (unless the object form or Object is used). */
  readonly requiredOneOf?: readonly (readonly string[])[];
  /** A parameter that needs, beside it, one member of each listed group. */
  readonly resolutions?: Readonly<Record<string, readonly (readonly string[])[]>>;
  /** The object parameter of an object form: given, it stands for the required groups. */
  readonly objectParameter?: string;
  /** What the reference says it returns; a stub casts what a test makes it return to this type. */
  readonly returns?: readonly CmdletReturn[];
  /** Facts from the section that matter to callers. */
  readonly notes?: readonly string[];
}

const POWERSHELL_TYPES: Readonly<Record<string, string>> = {
  string: "string",
  Guid: "guid",
  uint: "uint32",
  UInt64: "uint64",
  int: "int32",
  bool: "bool",
  Boolean: "bool",
  DateTime: "datetime",
  SwitchParameter: "switch",
};

/** The PowerShell type of one element of `type`; vendor types (PvsPhysicalAddress, PvsDisk...) are object. */
export function powershellElementType(type: PsType): string {
  return POWERSHELL_TYPES[type.endsWith("[]") ? type.slice(0, -2) : type] ?? "object";
}

/** The PowerShell type a stub declares. */
export function powershellType(type: PsType): string {
  const base = powershellElementType(type);
  return type.endsWith("[]") ? `${base}[]` : base;
}
