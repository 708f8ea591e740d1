import type { SubmissionResult } from "@conform-to/react";
import type { MetaFunction } from "@remix-run/node";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { TargetForm, type TargetFormValues } from "../components/targets/target-form.tsx";
import { buttonClass } from "../components/ui/button.tsx";
import { PageHeader } from "../components/ui/page-header.tsx";
import { Toast } from "../components/ui/toast.tsx";
import { pageAction, pageLoader, readPageQuery, redirectWithToast } from "../http/page.server.ts";
import { can } from "../lib/permissions.ts";
import { credentialChoicesQuery, DEFAULT_PORTS, targetForm } from "../schemas/targets.ts";
import { createTarget } from "../services/targets/commands.server.ts";
import { credentialChoices, knownTargetTags, targetIdsByName, targetNames } from "../services/targets/queries.server.ts";

export const meta: MetaFunction = () => [{ title: "OpsConductor · New target" }];

export const loader = pageLoader({ permission: "targets:write" }, async ({ db, user, request }) => {
  const query = readPageQuery(request, credentialChoicesQuery);
  const [choices, names, tags] = await Promise.all([credentialChoices(db, query.host ?? "", query.os ?? "windows"), targetNames(db), knownTargetTags(db)]);
  return { choices, targetNames: names.map((t) => t.name), knownTags: tags, canBindAnywhere: can(user.role, "credentials:bind_any") };
});

export const action = pageAction({ permission: "targets:write", schema: targetForm }, async (value, { db, principal, audit, headers }) => {
  const dependsOn = await targetIdsByName(db, value.dependsOn);
  const created = await createTarget(db, { ...value, dependsOn }, audit, { bindAnywhere: can(principal.role, "credentials:bind_any") });
  return redirectWithToast(`/targets/${created.id}`, `Target ${created.name} registered.`, headers);
});

const EMPTY: TargetFormValues = {
  name: "",
  hostname: "",
  port: String(DEFAULT_PORTS.http),
  os: "windows",
  winrm: { transport: "http", auth: "ntlm", allowUnencrypted: false, caCertificate: "", rejectUnauthorized: true },
  credentialId: "",
  credentialName: null,
  tags: [],
  description: "",
  dependsOn: [],
};

export default function NewTarget() {
  const data = useLoaderData<typeof loader>();
  const answer = useActionData<typeof action>();
  return (
    <div>
      <PageHeader title="New target" description="A Windows host that jobs run on, reached over WinRM with one of your credentials." />
      <TargetForm
        id="target"
        defaultValue={EMPTY}
        lastResult={answer?.result as SubmissionResult<string[]> | undefined}
        choices={data.choices}
        choicesFrom="/targets/new"
        canBindAnywhere={data.canBindAnywhere}
        targetNames={data.targetNames}
        knownTags={data.knownTags}
        submitLabel="Create target"
        pendingLabel="Creating…"
        cancel={
          <Link to="/targets" className={buttonClass("secondary")}>
            Cancel
          </Link>
        }
      />
      <Toast toast={answer?.toast} />
    </div>
  );
}
