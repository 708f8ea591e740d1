import type { SubmissionResult } from "@conform-to/react";
import type { MetaFunction } from "@remix-run/node";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { TargetForm, type TargetFormValues } from "../components/targets/target-form.tsx";
import { buttonClass } from "../components/ui/button.tsx";
import { PageHeader } from "../components/ui/page-header.tsx";
import { Toast } from "../components/ui/toast.tsx";
import { pageAction, pageLoader, pageParams, readPageQuery, redirectWithToast } from "../http/page.server.ts";
import { can } from "../lib/permissions.ts";
import { idParams } from "../schemas/common.ts";
import { credentialChoicesQuery, targetForm } from "../schemas/targets.ts";
import { updateTarget } from "../services/targets/commands.server.ts";
import { credentialChoices, getTarget, knownTargetTags, targetIdsByName, targetNames } from "../services/targets/queries.server.ts";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `OpsConductor · Edit ${data?.target.name ?? "target"}` }];

export const loader = pageLoader({ permission: "targets:write" }, async ({ db, user, request, params }) => {
  const query = readPageQuery(request, credentialChoicesQuery);
  const target = await getTarget(db, pageParams(params, idParams).id);
  const [choices, names, tags] = await Promise.all([credentialChoices(db, query.host ?? target.hostname, query.os ?? target.os), targetNames(db), knownTargetTags(db)]);
  return {
    target,
    choices,
    targetNames: names.filter((t) => t.id !== target.id).map((t) => t.name),
    knownTags: tags,
    canBindAnywhere: can(user.role, "credentials:bind_any"),
  };
});

export const action = pageAction({ permission: "targets:write", schema: targetForm }, async (value, { db, principal, params, audit, headers }) => {
  const { id } = pageParams(params, idParams);
  const dependsOn = await targetIdsByName(db, value.dependsOn);
  const updated = await updateTarget(db, id, { ...value, dependsOn }, audit, { bindAnywhere: can(principal.role, "credentials:bind_any") });
  return redirectWithToast(`/targets/${updated.id}`, `Target ${updated.name} saved.`, headers);
});

type Target = ReturnType<typeof useLoaderData<typeof loader>>["target"];

function formValues(target: Target): TargetFormValues {
  return {
    name: target.name,
    hostname: target.hostname,
    port: String(target.port),
    os: target.os,
    winrm: { ...target.winrm, caCertificate: target.winrm.caCertificate ?? "" },
    credentialId: target.credential?.id ?? "",
    credentialName: target.credential?.name ?? null,
    tags: target.tags,
    description: target.description ?? "",
    dependsOn: target.dependsOn.map((d) => d.name),
  };
}

export default function EditTarget() {
  const data = useLoaderData<typeof loader>();
  const answer = useActionData<typeof action>();
  return (
    <div>
      <PageHeader title={`Edit ${data.target.name}`} description={`${data.target.hostname}:${data.target.port}`} />
      <TargetForm
        id="target"
        defaultValue={formValues(data.target)}
        lastResult={answer?.result as SubmissionResult<string[]> | undefined}
        choices={data.choices}
        choicesFrom={`/targets/${data.target.id}/edit`}
        canBindAnywhere={data.canBindAnywhere}
        targetNames={data.targetNames}
        knownTags={data.knownTags}
        submitLabel="Save target"
        pendingLabel="Saving…"
        cancel={
          <Link to={`/targets/${data.target.id}`} className={buttonClass("secondary")}>
            Cancel
          </Link>
        }
      />
      <Toast toast={answer?.toast} />
    </div>
  );
}
