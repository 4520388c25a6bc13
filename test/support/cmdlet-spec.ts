/**
 * A vendor cmdlet as data, read from the vendor's published reference: what a stub module needs to
 * refuse what the real cmdlet would refuse (unknown parameters, a missing mandatory one, a
 * required group left out) and nothing more. Tables: pvs-cmdlets.ts.
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
  readonly mandatory?: boolean;
  /** For cmdlets with an object form: the form the parameter belongs to; absent means every form. */
  readonly set?: "Object" | "Fields";
  /** Accepted from the pipeline. */
  readonly pipeline?: boolean;
  /** Bound by position; parameters without one are named only. */
  readonly position?: number;
  /** The reference's "Max Length=N" for a string. */
  readonly maxLength?: number;
}

export interface CmdletSpec {
  readonly name: string;
  /** Where in the reference this entry was read (a heading or a URL). */
  readonly section: string;
  readonly parameters: readonly CmdletParameter[];
  /** Groups of which at least one member must be given (unless the object form or Object is used). */
  readonly requiredOneOf?: readonly (readonly string[])[];
  /** A parameter that needs, beside it, one member of each listed group. */
  readonly resolutions?: Readonly<Record<string, readonly (readonly string[])[]>>;
  /** The object parameter of the Object form (parameter set Object); the rest is set Fields. */
  readonly objectParameter?: string;
  /** What the reference says it returns. */
  readonly returns?: string;
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
  DateTime: "datetime",
  SwitchParameter: "switch",
};

/** The PowerShell type a stub declares; vendor types (PvsPhysicalAddress, PvsDisk...) become object. */
export function powershellType(type: PsType): string {
  const array = type.endsWith("[]");
  const base = POWERSHELL_TYPES[array ? type.slice(0, -2) : type] ?? "object";
  return array ? `${base}[]` : base;
}
